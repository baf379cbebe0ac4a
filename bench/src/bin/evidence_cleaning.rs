//! `evidence`: processing time and peak memory of cleaning a 10 MB upload with
//! `lapor_evidence::clean` and the default limits, against the evidence function's 128 MB budget.
//!
//! Inputs are made in memory, deterministically (seeded xorshift noise over a blocky scene, so
//! that compression cannot make them small), as close to the 10 MiB upload limit as the encoders
//! allow, each with the metadata a phone or office program leaves (the `lapor-evidence` test
//! fixtures): a 12 MP and a 24 MP baseline JPEG (EXIF orientation 6, GPS, serial, XMP, comment;
//! 24 MP is the largest photo the default memory budget admits), a 6 MP PNG (tEXt, iTXt XMP,
//! eXIf) and a 9-page PDF of scanned pages (DCT images with EXIF, Info, XMP, an annotation
//! author, an embedded file). They are written to `target/bench/evidence-inputs/` and removed at
//! the end.
//!
//! Every measurement runs in a child process of its own (this program again, `--one MODE PATH`),
//! so that VmHWM is one case's peak: `clean` children read the file and clean it; `baseline`
//! children read the same file and SHA-256 it (the time baseline, and the memory of holding the
//! upload without cleaning it). Each case runs `--runs` times (3) of each; medians are reported.
//! Times are the child's on-CPU time of its only thread (`/proc/thread-self/schedstat`), and
//! wall time beside it. Estimates for Lambda scale that single-core time by 1769 / memory MB
//! (Lambda gives one vCPU at 1,769 MB, proportionally less below) and assume a core there is as
//! fast as one here. The function's peak is estimated as the function's own resident memory
//! (the largest peak RSS in `target/bench/cold.json` from the same run, else 20 MB) + the upload
//! + what cleaning added over the baseline child.
//!
//! Writes `target/bench/evidence.json` (or `--out PATH`) and prints it. Exits non-zero only when
//! something failed (an input could not be made, a child failed, a cleaned file still carries
//! metadata); an input that does not fit 128 MB is a result, not a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbImage};
use lapor_bench::{out_dir, Summary};
use lapor_evidence::{clean, Limits};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[path = "../../../crates/lapor-evidence/tests/common/mod.rs"]
mod fixtures;

type Fallible<T> = Result<T, String>;

const MIB: f64 = 1_048_576.0;
/// Inputs aim at this share of the upload limit and stay under the limit itself.
const TARGET_SHARE: f64 = 0.97;
/// Quality of the generated photos (phones write 90–95).
const PHOTO_QUALITY: u8 = 92;
const DEFAULT_RUNS: usize = 3;
/// Lambda gives a function one full vCPU at 1,769 MB, proportionally less below.
const FULL_VCPU_MB: f64 = 1769.0;
const MEMORY_SIZES_MB: [f64; 4] = [128.0, 256.0, 512.0, 1024.0];
/// The evidence function's timeout (infra/template.yaml).
const TIMEOUT_S: f64 = 60.0;
/// Share of the memory size kept free.
const MARGIN: f64 = 0.2;
/// The function's own resident memory when `cold.json` has no measurement.
const DEFAULT_FUNCTION_RSS_MB: f64 = 20.0;
/// A4 at 200 dpi, as a phone scanner app writes a page.
const PAGE_PIXELS: (u32, u32) = (1654, 2339);
const SCANNED_PAGES: usize = 8;

#[derive(Debug, Clone, Copy)]
enum Case {
    Jpeg12,
    Jpeg24,
    Png6,
    Pdf,
}

const CASES: [Case; 4] = [Case::Jpeg12, Case::Jpeg24, Case::Png6, Case::Pdf];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Jpeg12 => "jpeg_12mp",
            Case::Jpeg24 => "jpeg_24mp",
            Case::Png6 => "png_6mp",
            Case::Pdf => "pdf_9_pages",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Case::Jpeg12 | Case::Jpeg24 => "jpg",
            Case::Png6 => "png",
            Case::Pdf => "pdf",
        }
    }

    fn make(self) -> Fallible<Input> {
        match self {
            Case::Jpeg12 => photo(4000, 3000),
            Case::Jpeg24 => photo(6000, 4000),
            Case::Png6 => png(3000, 2000),
            Case::Pdf => pdf(),
        }
    }
}

/// A generated upload and what cleaning it must give.
struct Input {
    bytes: Vec<u8>,
    kind: &'static str,
    detail: String,
    /// Dimensions after cleaning (the EXIF orientation applied); `None` for PDF.
    expect_dimensions: Option<(u32, u32)>,
    pages: Option<usize>,
    noise_amplitude: u32,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        return match (args.get(1), args.get(2)) {
            (Some(mode), Some(path)) => match child(mode, Path::new(path)) {
                Ok(value) => {
                    println!("{value}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("evidence_cleaning --one {mode}: {e}");
                    ExitCode::FAILURE
                }
            },
            _ => {
                eprintln!("usage: evidence_cleaning --one clean|baseline PATH");
                ExitCode::FAILURE
            }
        };
    }
    let mut out = None;
    let mut runs = DEFAULT_RUNS;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            ("--out", Some(path)) => out = Some(PathBuf::from(path)),
            ("--runs", Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                runs = n.parse().unwrap_or(DEFAULT_RUNS);
            }
            _ => {
                eprintln!("usage: evidence_cleaning [--out PATH] [--runs N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let path = out.unwrap_or_else(|| out_dir().join("evidence.json"));
    // A failed run leaves no results behind for the report to show as this run's.
    let _ = std::fs::remove_file(&path);
    let result = match run(runs) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("evidence: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = serde_json::to_string_pretty(&result).unwrap_or_default();
    if let Err(e) = std::fs::write(&path, &text) {
        eprintln!("evidence: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("{text}");
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}

// --- the measured child ----------------------------------------------------------------------

/// One measurement in this process: read the upload, then clean it or only hash it.
fn child(mode: &str, path: &Path) -> Fallible<Value> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rss_before = status_kb("VmRSS:")?;
    let cpu_before = thread_cpu_ns();
    let started = Instant::now();
    let outcome = match mode {
        "baseline" => {
            std::hint::black_box(Sha256::digest(&bytes));
            None
        }
        "clean" => Some(clean(&bytes, &Limits::default())),
        other => return Err(format!("unknown mode {other}")),
    };
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cpu_ms = cpu_before
        .zip(thread_cpu_ns())
        .map(|(before, after)| (after - before) as f64 / 1e6);
    let peak = status_kb("VmHWM:")?;
    let threads = status_kb("Threads:")?;
    let mut value = json!({
        "mode": mode,
        "wall_ms": wall_ms,
        "cpu_ms": cpu_ms,
        "threads": threads,
        "rss_before_kb": rss_before,
        "peak_rss_kb": peak,
    });
    if let Some(outcome) = outcome {
        let cleaned = outcome.map_err(|refused| format!("refused: {refused:?}"))?;
        // A clean copy that still names the reporter or the camera is a failure, not a number.
        for needle in [fixtures::NAME, fixtures::SERIAL] {
            if fixtures::contains(&cleaned.bytes, needle.as_bytes()) {
                return Err(format!("the cleaned file still contains {needle:?}"));
            }
        }
        value["kind"] = json!(cleaned.kind.extension());
        value["output_bytes"] = json!(cleaned.bytes.len());
        value["width"] = json!(cleaned.width);
        value["height"] = json!(cleaned.height);
    }
    Ok(value)
}

/// A number field of `/proc/self/status` (kB for the Vm fields).
fn status_kb(field: &str) -> Fallible<u64> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status"))
}

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

// --- the parent: make inputs, run children, summarise ---------------------------------------

fn run(runs: usize) -> Fallible<Value> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let dir = out_dir().join("evidence-inputs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (function_rss_mb, function_rss_source) = function_rss_mb();
    let mut cases = Vec::new();
    for case in CASES {
        let started = Instant::now();
        let input = case.make().map_err(|e| format!("{}: {e}", case.name()))?;
        let generate_ms = started.elapsed().as_secs_f64() * 1000.0;
        let path = dir.join(format!("{}.{}", case.name(), case.extension()));
        std::fs::write(&path, &input.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!(
            "{}: {} bytes made in {generate_ms:.0} ms; measuring",
            case.name(),
            input.bytes.len()
        );
        let result = measure(&exe, case, &input, &path, runs, function_rss_mb)?;
        eprintln!("{}: {}", case.name(), result["verdict"]);
        cases.push(result);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let needed: Vec<Option<f64>> = cases
        .iter()
        .map(|c| c["smallest_memory_mb"].as_f64())
        .collect();
    let recommended = if needed.iter().all(Option::is_some) {
        needed.into_iter().flatten().reduce(f64::max)
    } else {
        None
    };
    Ok(json!({
        "method": format!(
            "Each input is made in memory (seeded noise, so it stays near 10 MiB), written to a \
             file, and read by a fresh child process per measurement: 'clean' children run \
             lapor_evidence::clean with the default limits, 'baseline' children only SHA-256 the \
             same bytes. Medians of {runs} runs each. Times are the child's single-thread CPU \
             time; peak RSS is VmHWM of the child."
        ),
        "cpu_assumption": format!(
            "Lambda gives one vCPU at {FULL_VCPU_MB:.0} MB and proportionally less below, so the \
             time at M MB is the single-core time here x {FULL_VCPU_MB:.0} / M (x 13.8 at 128 MB), \
             assuming a Lambda core is as fast as one here."
        ),
        "memory_model": "Function peak = the function's own RSS + the upload + what cleaning added \
                         over the baseline child. Fits with margin: at most 80% of the memory size.",
        "runs": runs,
        "memory_sizes_mb": MEMORY_SIZES_MB,
        "timeout_s": TIMEOUT_S,
        "margin": MARGIN,
        "function_rss_mb": function_rss_mb,
        "function_rss_source": function_rss_source,
        "limits": {
            "max_bytes": Limits::default().max_bytes,
            "max_pixels": Limits::default().max_pixels,
            "max_decode_memory": Limits::default().max_decode_memory,
        },
        "cases": cases,
        "recommended_memory_mb": recommended,
    }))
}

/// The largest peak RSS of a function measured by `cold_start` in this run (MB), and where the
/// number comes from.
fn function_rss_mb() -> (f64, String) {
    let path = out_dir().join("cold.json");
    let measured = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|cold| {
            let functions = cold.get("functions").cloned().unwrap_or(cold);
            functions
                .as_object()?
                .iter()
                .filter(|(name, _)| name.as_str() != "hello")
                .filter_map(|(name, f)| Some((name.clone(), f.get("peak_rss_kb")?.as_f64()?)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
    match measured {
        Some((name, kb)) => (
            kb / 1024.0,
            format!("the largest function peak RSS in cold.json, {name}'s"),
        ),
        None => (
            DEFAULT_FUNCTION_RSS_MB,
            "assumed, as cold.json has no function peak RSS".into(),
        ),
    }
}

fn run_child(exe: &Path, mode: &str, path: &Path) -> Fallible<Value> {
    let output = Command::new(exe)
        .args(["--one", mode])
        .arg(path)
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{mode} child {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{mode} child output: {e}"))
}

fn median(samples: &[Value], key: &str) -> Option<f64> {
    let values: Vec<f64> = samples.iter().filter_map(|s| s[key].as_f64()).collect();
    Summary::of(&values).map(|s| s.median)
}

fn samples_of(samples: &[Value], key: &str) -> Vec<f64> {
    samples.iter().filter_map(|s| s[key].as_f64()).collect()
}

fn measure(
    exe: &Path,
    case: Case,
    input: &Input,
    path: &Path,
    runs: usize,
    function_rss_mb: f64,
) -> Fallible<Value> {
    let mut cleans = Vec::new();
    let mut baselines = Vec::new();
    for _ in 0..runs {
        baselines.push(run_child(exe, "baseline", path)?);
        cleans.push(run_child(exe, "clean", path)?);
    }
    let first = &cleans[0];
    if first["kind"].as_str() != Some(input.kind) {
        return Err(format!(
            "cleaned as {}, made as {}",
            first["kind"], input.kind
        ));
    }
    let dimensions = first["width"].as_u64().zip(first["height"].as_u64());
    let expected = input
        .expect_dimensions
        .map(|(w, h)| (u64::from(w), u64::from(h)));
    if dimensions != expected {
        return Err(format!(
            "cleaned to {dimensions:?}, expected {expected:?} (orientation applied)"
        ));
    }
    let threads = cleans.iter().filter_map(|c| c["threads"].as_u64()).max();
    // One thread: its CPU time is the whole process's. Otherwise fall back to wall time.
    let time_key = if threads == Some(1) && first["cpu_ms"].is_number() {
        "cpu_ms"
    } else {
        "wall_ms"
    };
    let clean_ms = median(&cleans, time_key).ok_or("no clean time")?;
    let sha_ms = median(&baselines, time_key).ok_or("no baseline time")?;
    let kb_to_mb = |kb: f64| kb / 1024.0;
    let peak_mb = median(&cleans, "peak_rss_kb").map(kb_to_mb).unwrap_or(0.0);
    let before_mb = median(&cleans, "rss_before_kb")
        .map(kb_to_mb)
        .unwrap_or(0.0);
    let baseline_peak_mb = median(&baselines, "peak_rss_kb")
        .map(kb_to_mb)
        .unwrap_or(0.0);
    let added_mb = (peak_mb - baseline_peak_mb).max(0.0);
    let input_mb = input.bytes.len() as f64 / MIB;
    let function_peak_mb = function_rss_mb + input_mb + added_mb;

    let lambda: Vec<Value> = MEMORY_SIZES_MB
        .iter()
        .map(|&memory| {
            let ms = clean_ms * (FULL_VCPU_MB / memory).max(1.0);
            json!({
                "memory_mb": memory,
                "estimated_ms": ms,
                "within_timeout": ms <= TIMEOUT_S * 1000.0,
                "fits": function_peak_mb <= memory,
                "fits_with_margin": function_peak_mb <= memory * (1.0 - MARGIN),
            })
        })
        .collect();
    let smallest = lambda
        .iter()
        .find(|l| l["within_timeout"] == true && l["fits_with_margin"] == true)
        .and_then(|l| l["memory_mb"].as_f64());
    let fits_128 = function_peak_mb <= MEMORY_SIZES_MB[0];
    let verdict = match smallest {
        Some(m) if m == MEMORY_SIZES_MB[0] => "fits 128 MB with a 20% margin".to_string(),
        Some(m) if fits_128 => {
            format!("fits 128 MB without the 20% margin; {m:.0} MB with it")
        }
        Some(m) => format!("does not fit 128 MB; {m:.0} MB fits with a 20% margin"),
        None => "fits none of 128/256/512/1024 MB with a 20% margin within the timeout".into(),
    };
    Ok(json!({
        "name": case.name(),
        "detail": input.detail,
        "kind": input.kind,
        "input_bytes": input.bytes.len(),
        "input_mb": input_mb,
        "output_bytes": first["output_bytes"],
        "output_mb": first["output_bytes"].as_f64().map(|b| b / MIB),
        "width": first["width"],
        "height": first["height"],
        "pages": input.pages,
        "noise_amplitude": input.noise_amplitude,
        "time_measure": time_key,
        "threads": threads,
        "clean_ms": clean_ms,
        "clean_ms_samples": samples_of(&cleans, time_key),
        "clean_wall_ms": median(&cleans, "wall_ms"),
        "sha256_ms": sha_ms,
        "ratio_to_sha256": clean_ms / sha_ms.max(f64::MIN_POSITIVE),
        "baseline_peak_rss_mb": baseline_peak_mb,
        "rss_before_clean_mb": before_mb,
        "peak_rss_mb": peak_mb,
        "peak_rss_mb_samples": samples_of(&cleans, "peak_rss_kb").into_iter().map(kb_to_mb).collect::<Vec<_>>(),
        "added_by_cleaning_mb": added_mb,
        "estimated_function_peak_mb": function_peak_mb,
        "lambda": lambda,
        "fits_128": fits_128,
        "smallest_memory_mb": smallest,
        "verdict": verdict,
    }))
}

// --- inputs ---------------------------------------------------------------------------------

fn target_bytes() -> f64 {
    Limits::default().max_bytes as f64 * TARGET_SHARE
}

fn under_limit(bytes: &[u8]) -> bool {
    (bytes.len() as u64) < Limits::default().max_bytes
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn channel(value: i32) -> u8 {
    value.clamp(0, 255) as u8
}

/// A photo-like picture: a blocky scene with gradients under per-pixel noise of ±`amplitude`
/// (luma, and half as much chroma). Only the rows of every `step`-th band of 16 rows are made
/// (1: the whole picture), so that a sample has the full picture's statistics.
fn texture(width: u32, height: u32, amplitude: u32, seed: u64, step: u32) -> Fallible<RgbImage> {
    let rows: Vec<u32> = (0..height).filter(|y| (y / 16) % step == 0).collect();
    let mut rng = XorShift(seed | 1);
    let span = 2 * u64::from(amplitude) + 1;
    let a = amplitude as i32;
    let (block_w, block_h) = (width.div_ceil(9), height.div_ceil(6));
    let mut raw = Vec::with_capacity(width as usize * rows.len() * 3);
    for &y in &rows {
        let fy = (y * 255 / height) as i32;
        for x in 0..width {
            let fx = (x * 255 / width) as i32;
            let block = (((x / block_w) * 37 + (y / block_h) * 91) % 7) as i32;
            let r = rng.next();
            let luma = (r % span) as i32 - a;
            let cb = (((r >> 24) % span) as i32 - a) / 2;
            let cr = (((r >> 44) % span) as i32 - a) / 2;
            raw.push(channel(70 + fx / 3 + block * 14 + luma + cr));
            raw.push(channel(80 + fy / 3 + block * 9 + luma - (cb + cr) / 2));
            raw.push(channel(120 - fy / 4 + block * 6 + luma + cb));
        }
    }
    RgbImage::from_raw(width, rows.len() as u32, raw).ok_or_else(|| "texture buffer".into())
}

fn sample_scale(height: u32, step: u32) -> f64 {
    let rows = (0..height).filter(|y| (y / 16) % step == 0).count();
    f64::from(height) / rows.max(1) as f64
}

fn encode_photo(image: &RgbImage) -> Fallible<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, PHOTO_QUALITY)
        .encode_image(image)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn encode_png(image: &RgbImage) -> Fallible<Vec<u8>> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The largest noise amplitude (0–127) whose estimated full size stays within `budget`.
fn calibrate(budget: f64, estimate: impl Fn(u32) -> Fallible<f64>) -> Fallible<u32> {
    let (mut low, mut high) = (0u32, 127u32);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if estimate(mid)? <= budget {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    Ok(low)
}

/// Builds the input at `amplitude`, lowering it until the file is under the upload limit.
fn under_the_limit(
    mut amplitude: u32,
    build: impl Fn(u32) -> Fallible<Vec<u8>>,
) -> Fallible<(Vec<u8>, u32)> {
    loop {
        let bytes = build(amplitude)?;
        if under_limit(&bytes) {
            return Ok((bytes, amplitude));
        }
        if amplitude == 0 {
            return Err(format!("{} bytes even without noise", bytes.len()));
        }
        amplitude -= (amplitude / 20).max(1);
    }
}

/// A baseline JPEG as a phone writes it, with EXIF (orientation 6, GPS, serial), XMP and a
/// comment.
fn photo(width: u32, height: u32) -> Fallible<Input> {
    let seed = (u64::from(width) << 32) | u64::from(height);
    let step = 8;
    let scale = sample_scale(height, step);
    let amplitude = calibrate(target_bytes(), |a| {
        Ok(encode_photo(&texture(width, height, a, seed, step)?)?.len() as f64 * scale)
    })?;
    let (bytes, amplitude) = under_the_limit(amplitude, |a| {
        let encoded = encode_photo(&texture(width, height, a, seed, 1)?)?;
        Ok(fixtures::add_jpeg_metadata(&encoded, 6))
    })?;
    Ok(Input {
        bytes,
        kind: "jpg",
        detail: format!(
            "{width} × {height} baseline JPEG q{PHOTO_QUALITY}, EXIF orientation 6 + GPS + serial, XMP, comment"
        ),
        expect_dimensions: Some((height, width)),
        pages: None,
        noise_amplitude: amplitude,
    })
}

/// An RGB PNG with tEXt (Author), iTXt (XMP) and eXIf chunks after IHDR.
fn png(width: u32, height: u32) -> Fallible<Input> {
    let seed = (u64::from(width) << 32) | u64::from(height) | 0x5EED;
    let step = 8;
    let scale = sample_scale(height, step);
    let amplitude = calibrate(target_bytes(), |a| {
        Ok(encode_png(&texture(width, height, a, seed, step)?)?.len() as f64 * scale)
    })?;
    let (bytes, amplitude) = under_the_limit(amplitude, |a| {
        let encoded = encode_png(&texture(width, height, a, seed, 1)?)?;
        let after_ihdr = 8 + 25;
        if encoded.get(12..16) != Some(b"IHDR".as_slice()) {
            return Err("PNG without IHDR first".into());
        }
        let mut out = encoded[..after_ihdr].to_vec();
        out.extend(fixtures::png_chunk(
            b"tEXt",
            format!("Author\0{}", fixtures::NAME).as_bytes(),
        ));
        let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
        itxt.extend(fixtures::xmp_packet().as_bytes());
        out.extend(fixtures::png_chunk(b"iTXt", &itxt));
        out.extend(fixtures::png_chunk(b"eXIf", &fixtures::exif_tiff(1)));
        out.extend(&encoded[after_ihdr..]);
        Ok(out)
    })?;
    Ok(Input {
        bytes,
        kind: "png",
        detail: format!("{width} × {height} RGB PNG, tEXt author, iTXt XMP, eXIf (GPS, serial)"),
        expect_dimensions: Some((width, height)),
        pages: None,
        noise_amplitude: amplitude,
    })
}

/// The fixture's one-page PDF (Info, XMP, annotation author, page-piece data, an EXIF photo
/// drawn and attached) followed by scanned pages: full-page DCT images with EXIF.
fn pdf() -> Fallible<Input> {
    let (width, height) = PAGE_PIXELS;
    let base = fixtures::save(&mut fixtures::pdf_document()).len() as f64;
    // A page's image plus its page, content and resources objects.
    let per_page = (target_bytes() - base) / SCANNED_PAGES as f64 - 600.0;
    let step = 8;
    let scale = sample_scale(height, step);
    let amplitude = calibrate(per_page, |a| {
        Ok(encode_photo(&texture(width, height, a, 0x9D_F00D, step)?)?.len() as f64 * scale)
    })?;
    let (bytes, amplitude) = under_the_limit(amplitude, |a| {
        let mut doc = fixtures::pdf_document();
        let scans = (0..SCANNED_PAGES)
            .map(|page| {
                let encoded =
                    encode_photo(&texture(width, height, a, 0x9D_F00D + page as u64, 1)?)?;
                Ok(fixtures::add_jpeg_metadata(&encoded, 1))
            })
            .collect::<Fallible<Vec<_>>>()?;
        add_scanned_pages(&mut doc, scans).map_err(|e| format!("PDF: {e}"))?;
        let mut out = Vec::new();
        doc.save_to(&mut out).map_err(|e| format!("PDF: {e}"))?;
        Ok(out)
    })?;
    Ok(Input {
        bytes,
        kind: "pdf",
        detail: format!(
            "1 text page + {SCANNED_PAGES} scanned pages ({width} × {height} DCT images with EXIF), Info, XMP, annotation author, embedded file"
        ),
        expect_dimensions: None,
        pages: Some(SCANNED_PAGES + 1),
        noise_amplitude: amplitude,
    })
}

fn add_scanned_pages(doc: &mut Document, scans: Vec<Vec<u8>>) -> lopdf::Result<()> {
    let (width, height) = PAGE_PIXELS;
    let root = doc.trailer.get(b"Root").and_then(Object::as_reference)?;
    let pages_id = doc
        .get_dictionary(root)?
        .get(b"Pages")
        .and_then(Object::as_reference)?;
    let mut kids = doc
        .get_dictionary(pages_id)?
        .get(b"Kids")
        .and_then(Object::as_array)?
        .clone();
    for scan in scans {
        let image_id = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(width),
                "Height" => i64::from(height),
                "ColorSpace" => "DeviceRGB",
                "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
            },
            scan,
        ));
        let content = Content {
            operations: vec![
                Operation::new("q", vec![]),
                Operation::new(
                    "cm",
                    vec![
                        595.into(),
                        0.into(),
                        0.into(),
                        842.into(),
                        0.into(),
                        0.into(),
                    ],
                ),
                Operation::new("Do", vec!["Scan".into()]),
                Operation::new("Q", vec![]),
            ],
        };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode()?));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image_id } },
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    let pages = doc.get_dictionary_mut(pages_id)?;
    pages.set("Kids", kids);
    pages.set("Count", count);
    Ok(())
}
