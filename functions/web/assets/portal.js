// LAPOR portal enhancements. Every page works without this file; it only adds conveniences:
// copy and print on the receipt, "use my location", the province filter, whistleblowing's forced
// secrecy, and upload progress. Nothing here talks to any origin but our own.
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";
  function t(id, english) { return en ? english : id; }
  function $(id) { return document.getElementById(id); }

  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll(".no-js").forEach(function (el) { el.hidden = true; });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = $(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = t("Tersalin", "Copied");
      });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var summary = $("error-summary");
  if (summary) { summary.focus(); }

  var locate = $("use-location");
  if (locate) {
    if (!navigator.geolocation) { locate.parentNode.hidden = true; }
    locate.addEventListener("click", function () {
      var status = $("location-status");
      status.textContent = t("Mencari lokasi…", "Finding your location…");
      navigator.geolocation.getCurrentPosition(function (position) {
        $("lat").value = position.coords.latitude.toFixed(6);
        $("lon").value = position.coords.longitude.toFixed(6);
        status.textContent = t("Lokasi ditambahkan.", "Location added.");
      }, function () {
        status.textContent = t("Lokasi tidak dapat diambil. Isi alamat saja.", "Your location could not be found. Give an address instead.");
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  // Province first, then its regencies and cities: a filter over the one grouped list.
  var region = $("region");
  if (region && region.querySelector("optgroup")) {
    var groups = Array.prototype.slice.call(region.querySelectorAll("optgroup"));
    var wrapper = document.createElement("div");
    wrapper.className = "field";
    var label = document.createElement("label");
    label.htmlFor = "province";
    label.textContent = t("Provinsi", "Province");
    var province = document.createElement("select");
    province.id = "province";
    province.add(new Option(t("Semua provinsi", "All provinces"), ""));
    groups.forEach(function (group, i) { province.add(new Option(group.label, String(i))); });
    var chosen = region.selectedOptions[0];
    if (chosen && chosen.parentNode.tagName === "OPTGROUP") {
      province.value = String(groups.indexOf(chosen.parentNode));
    }
    wrapper.appendChild(label);
    wrapper.appendChild(province);
    region.parentNode.parentNode.insertBefore(wrapper, region.parentNode);
    var filter = function () {
      groups.forEach(function (group, i) {
        var shown = province.value === "" || province.value === String(i);
        if (shown && !group.parentNode) { region.appendChild(group); }
        if (!shown && group.parentNode) { group.parentNode.removeChild(group); }
      });
    };
    province.addEventListener("change", function () { region.value = ""; filter(); });
    filter();
  }

  // Whistleblowing is always confidential: say so in the form itself.
  var types = document.querySelectorAll("input[name=type]");
  var secret = $("privacy-rahasia");
  if (types.length && secret) {
    var others = document.querySelectorAll("input[name=privacy]:not(#privacy-rahasia)");
    var force = function () {
      var whistle = $("type-whistleblowing").checked;
      if (whistle) { secret.checked = true; }
      others.forEach(function (el) { el.disabled = whistle; });
    };
    types.forEach(function (el) { el.addEventListener("change", force); });
    force();
  }

  // Upload progress: the same form, sent by script so the bar can move.
  var form = $("report");
  var files = $("evidence");
  var bar = $("upload-progress");
  if (form && files && bar && window.FormData && window.XMLHttpRequest) {
    form.addEventListener("submit", function (event) {
      if (!files.files.length) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      bar.setAttribute("aria-label", t("Mengunggah berkas", "Uploading files"));
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () { bar.hidden = true; form.submit(); });
      xhr.send(new FormData(form));
    });
  }
})();
