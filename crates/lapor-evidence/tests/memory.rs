//! Peak heap use of `clean`, measured with a counting allocator. One test in this binary, so no
//! other test allocates at the same time.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use image::{Rgb, RgbImage};
use lapor_evidence::{clean, Limits, Rejection};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `f`, over what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let value = f();
    (value, PEAK.load(Ordering::SeqCst) - base)
}

#[test]
fn cleaning_keeps_peak_memory_near_one_decoded_image() {
    // The pixel bomb is refused from its header: no buffer for 2.5 gigapixels, nor anything big.
    let bomb = png_bomb(50_000, 50_000);
    let (result, peak) = peak_of(|| clean(&bomb, &Limits::default()));
    assert!(matches!(result, Err(Rejection::TooManyPixels { .. })));
    assert!(peak < 1024 * 1024, "bomb peak {peak} bytes");

    // A 2000 × 1000 photo that must be turned a quarter: the decoded RGB buffer is 6 MB. The
    // rotation goes through a view, so there is no second 6 MB buffer.
    let photo = RgbImage::from_fn(2000, 1000, |x, y| {
        Rgb([
            (x % 256) as u8,
            (y % 256) as u8,
            ((x / 8 + y / 8) % 256) as u8,
        ])
    });
    let upload = add_jpeg_metadata(&encode_jpeg(&photo), 6);
    drop(photo);
    let decoded = 2000 * 1000 * 3;
    let (result, peak) = peak_of(|| clean(&upload, &Limits::default()));
    let cleaned = result.unwrap();
    assert_eq!((cleaned.width, cleaned.height), (Some(1000), Some(2000)));
    assert!(
        peak < decoded + 2 * upload.len() + cleaned.bytes.len() + 1024 * 1024,
        "peak {peak} bytes for {decoded} decoded, {} in, {} out",
        upload.len(),
        cleaned.bytes.len()
    );
    assert!(
        peak < 2 * decoded,
        "peak {peak} bytes: a second image buffer"
    );
}
