//! Mutation fuzzing of every file reader: valid files of each format, mutated by a seeded
//! generator (bit flips, byte and word overwrites with extreme values, truncation, insertion,
//! deletion, duplication, numbers in text replaced by huge ones), are read back. Every case must
//! end in `Ok` or a clean `Err` — no panic, no hang (a watchdog aborts a case over 20 s), no
//! allocation above [`ALLOCATION_BOUND`] (the allocator below records the largest request and
//! refuses anything beyond [`HARD_LIMIT`], which aborts the test loudly).
//!
//! `cargo test --release --test fuzz` runs 300 cases per reader (what CI runs);
//! `LORAE_FUZZ_CASES=N` sets the per-reader count (10 000: 130 000 cases in all, about 70 s).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use burn::prelude::*;
use lorae::config::{DatasetKind, ModelKind, RunConfig};
use lorae::data::idx::{self, IdxImages};
use lorae::data::image_file::{self, Resize};
use lorae::model::Autoencoder;
use lorae::run::{checkpoint, metrics};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// No single allocation of a reader may ask for more than this.
const ALLOCATION_BOUND: usize = 256 << 20;
/// Requests beyond this are refused (the process aborts: a loud failure, not a swap storm).
const HARD_LIMIT: usize = 2 << 30;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Bounded;

// SAFETY: forwards to the system allocator; only records sizes and refuses huge requests.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        if layout.size() > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        if new_size > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Bounded = Bounded;

/// One reader under test: its name, valid seed files, and how to read a file.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    /// File name the bytes are written to (the reader may look at the extension).
    file: &'static str,
    read: Box<dyn Fn(&Path) -> bool>,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn targets(dir: &Path) -> Vec<Target> {
    let images = IdxImages {
        count: 3,
        rows: 4,
        cols: 5,
        pixels: (0..60).collect(),
    };
    let idx3 = idx::encode_images(&images);
    let idx1 = idx::encode_labels(&[1, 2, 3]);
    let record = lorae::data::cifar::RECORD;
    let cifar: Vec<u8> = (0..2 * record)
        .map(|i| {
            if i % record == 0 {
                (i / record) as u8 + 3
            } else {
                (i % 251) as u8
            }
        })
        .collect();
    let png = {
        let img =
            image::RgbImage::from_fn(6, 5, |x, y| image::Rgb([x as u8 * 40, y as u8 * 50, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let jpeg = {
        let img =
            image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    let npy = lorae::io::npy::encode_f64(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let npz = {
        let path = dir.join("seed.npz");
        let sigma = [2.0, 0.5, 0.5, 1.0];
        lorae::io::npz::write(
            &path,
            &[("mu", &[0.1, -0.2], &[2]), ("sigma", &sigma, &[2, 2])],
        )
        .unwrap();
        std::fs::read(&path).unwrap()
    };
    let config = serde_json::to_vec_pretty(&RunConfig::for_dataset(
        ModelKind::Irmae,
        DatasetKind::Shapes,
    ))
    .unwrap();
    let state = br#"{"epoch": 3, "partial": {"steps": 7, "sum_total": 0.5, "sum_reconstruction": 0.5, "sum_regularizer": 0.0, "sum_discriminator": 0.0, "sum_generator": 0.0, "seconds": 1.5}}"#.to_vec();
    let metrics_line = br#"{"epoch":1,"train_loss":0.05,"train_reconstruction":0.05,"train_regularizer":0.0,"eval_mse":0.04,"baseline_mse":0.06,"collapsed":false,"effective_rank":4,"rank_threshold":0.01,"singular_values":[1.0,0.5],"seconds":1.0}
"#.to_vec();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch");
    let torch: Vec<Vec<u8>> = ["state_dict.pt", "legacy.pt", "scripted.pt"]
        .iter()
        .map(|f| std::fs::read(fixtures.join(f)).unwrap())
        .collect();
    let pickles: Vec<Vec<u8>> = vec![
        // protocol 2: {"a": [1, 2.5, "x"], "b": (True, None)}
        b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00xq\x03eX\x01\x00\x00\x00bq\x04\x88N\x86q\x05u.".to_vec(),
    ];
    let model_config = RunConfig::for_dataset(ModelKind::Ae, DatasetKind::Shapes).model;
    let device = Device::flex();
    device.seed(0);
    let model = Autoencoder::new(&model_config, lorae::config::Layout::Shapes, &device);
    let safetensors = checkpoint::model_bytes(&model).unwrap();
    let resize = Resize {
        crop: None,
        size: 4,
        channels: 3,
    };
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let celeba_dir = dir.join("celeba");
    std::fs::create_dir_all(&celeba_dir).unwrap();
    vec![
        Target {
            name: "idx images",
            seeds: vec![idx3.clone(), gzip(&idx3)],
            file: "images-idx3-ubyte",
            read: Box::new(|p| idx::read_images(p).is_ok()),
        },
        Target {
            name: "idx labels",
            seeds: vec![idx1.clone(), gzip(&idx1)],
            file: "labels-idx1-ubyte",
            read: Box::new(|p| idx::read_labels(p).is_ok()),
        },
        Target {
            name: "cifar batch",
            seeds: vec![cifar],
            file: "data_batch_1.bin",
            read: Box::new(|p| lorae::data::cifar::read_batches(&[p.to_path_buf()], 10).is_ok()),
        },
        Target {
            name: "image file",
            seeds: vec![png, jpeg],
            file: "image.png",
            read: Box::new(move |p| image_file::load(p, resize).is_ok()),
        },
        Target {
            name: "npy",
            seeds: vec![npy],
            file: "array.npy",
            read: Box::new(|p| lorae::io::npy::read(p).is_ok()),
        },
        Target {
            name: "npz statistics",
            seeds: vec![npz],
            file: "stats.npz",
            read: Box::new(|p| lorae::eval::fid::FeatureStats::load(p).is_ok()),
        },
        Target {
            name: "torch checkpoint",
            seeds: torch,
            file: "weights.pt",
            read: Box::new(|p| {
                let Ok(mut archive) = lorae::weights::torch::TorchArchive::open(p) else {
                    return false;
                };
                let tensors = archive.tensors().to_vec();
                tensors.iter().all(|t| archive.read_f32(t).is_ok())
            }),
        },
        Target {
            name: "pickle",
            seeds: pickles,
            file: "data.pkl",
            read: Box::new(|p| lorae::weights::pickle::parse(&std::fs::read(p).unwrap()).is_ok()),
        },
        Target {
            name: "safetensors model",
            seeds: vec![safetensors],
            file: "model.safetensors",
            read: Box::new(move |p| checkpoint::load_model(model.clone(), p).is_ok()),
        },
        Target {
            name: "run config",
            seeds: vec![config],
            file: "run/config.json",
            read: Box::new(move |_| lorae::run::RunDir::open(&run_dir).is_ok()),
        },
        Target {
            name: "train state",
            seeds: vec![state],
            file: "state.json",
            read: Box::new(|p| checkpoint::load_state(p).is_ok()),
        },
        Target {
            name: "metrics",
            seeds: vec![metrics_line],
            file: "metrics.jsonl",
            read: Box::new(|p| metrics::read_all(p).is_ok()),
        },
        Target {
            name: "celeba partition",
            seeds: vec![b"000001.jpg 0\n000002.jpg 2\n000003.jpg 1\n".to_vec()],
            file: "celeba/list_eval_partition.txt",
            read: Box::new(move |_| {
                let celeba = lorae::data::celeba::Celeba {
                    dir: celeba_dir.clone(),
                    train_size: 10,
                    test_size: 10,
                };
                celeba.partition().is_ok()
            }),
        },
    ]
}

/// One seeded mutation of `seed`.
fn mutate(seed: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    let rounds = 1 + rng.random_range(0..3);
    for _ in 0..rounds {
        let len = b.len().max(1);
        match rng.random_range(0..9) {
            0 => {
                for _ in 0..rng.random_range(1..9) {
                    let i = rng.random_range(0..len);
                    if let Some(x) = b.get_mut(i) {
                        *x ^= 1 << rng.random_range(0..8);
                    }
                }
            }
            1 => {
                let i = rng.random_range(0..len);
                if let Some(x) = b.get_mut(i) {
                    *x = [0, 0xff, 0x7f, 0x80, rng.random()][rng.random_range(0..5)];
                }
            }
            2 => {
                // A 32- or 64-bit field overwritten with an extreme value (sizes, counts, offsets).
                let words: [u64; 6] = [0, 1, 0x7fff_ffff, 0xffff_ffff, u64::MAX, 1 << 40];
                let w = words[rng.random_range(0..words.len())];
                let bytes: Vec<u8> = match (rng.random::<bool>(), rng.random::<bool>()) {
                    (true, true) => (w as u32).to_le_bytes().to_vec(),
                    (true, false) => (w as u32).to_be_bytes().to_vec(),
                    (false, true) => w.to_le_bytes().to_vec(),
                    (false, false) => w.to_be_bytes().to_vec(),
                };
                let at = rng.random_range(0..len);
                for (k, &v) in bytes.iter().enumerate() {
                    if let Some(x) = b.get_mut(at + k) {
                        *x = v;
                    }
                }
            }
            3 => b.truncate(rng.random_range(0..len)),
            4 => {
                let at = rng.random_range(0..=b.len());
                let extra: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
                b.splice(at..at, extra);
            }
            5 => {
                let at = rng.random_range(0..len);
                let end = (at + rng.random_range(1..64)).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            6 => {
                let at = rng.random_range(0..len);
                let end = (at + rng.random_range(1..256)).min(b.len());
                let copy = b.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
                let to = rng.random_range(0..=b.len());
                b.splice(to..to, copy);
            }
            7 => {
                // A number in text replaced by a huge, negative or non-finite one.
                let starts: Vec<usize> = (0..b.len())
                    .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
                    .collect();
                if !starts.is_empty() {
                    let at = starts[rng.random_range(0..starts.len())];
                    let end = (at..b.len())
                        .find(|&i| !b[i].is_ascii_digit())
                        .unwrap_or(b.len());
                    let with: &[u8] = [
                        &b"18446744073709551615"[..],
                        b"100000000000",
                        b"-1",
                        b"1e308",
                        b"0",
                        b"NaN",
                    ][rng.random_range(0..6)];
                    b.splice(at..end, with.iter().copied());
                }
            }
            _ => b.clear(),
        }
    }
    b
}

static CURRENT: Mutex<String> = Mutex::new(String::new());
static STARTED_MS: AtomicU64 = AtomicU64::new(0);

/// The fuzz tests take turns: the allocation record and the watchdog are process-wide.
static TURN: Mutex<()> = Mutex::new(());

fn run(cases_per_target: usize) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // lorae's own memory checks use this bound too: every large allocation must be behind one.
    std::env::set_var("LORAE_MEMORY_LIMIT", ALLOCATION_BOUND.to_string());
    let dir = tempfile::tempdir().unwrap();
    let targets = targets(dir.path());
    let epoch = Instant::now();
    // Watchdog: a case running over 20 s is a hang.
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let started = STARTED_MS.load(Ordering::Relaxed);
        if started > 0 && epoch.elapsed().as_millis() as u64 > started + 20_000 {
            eprintln!(
                "fuzz: hang in {}",
                CURRENT.lock().unwrap_or_else(|e| e.into_inner())
            );
            std::process::abort();
        }
    });
    // The seeds themselves must read back.
    for target in &targets {
        let path = dir.path().join(target.file);
        for seed in &target.seeds {
            std::fs::write(&path, seed).unwrap();
            assert!(
                (target.read)(&path),
                "{}: a valid seed file is refused",
                target.name
            );
        }
    }
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut total = 0;
    for (t, target) in targets.iter().enumerate() {
        let path = dir.path().join(target.file);
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed + t as u64);
        let (mut ok, mut refused) = (0, 0);
        LARGEST.store(0, Ordering::Relaxed);
        for case in 0..cases_per_target {
            let seed = &target.seeds[case % target.seeds.len()];
            let bytes = mutate(seed, &mut rng);
            std::fs::write(&path, &bytes).unwrap();
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) =
                format!("{} case {case}", target.name);
            STARTED_MS.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            match catch_unwind(AssertUnwindSafe(|| (target.read)(&path))) {
                Ok(true) => ok += 1,
                Ok(false) => refused += 1,
                Err(_) => {
                    let keep = dir.path().join(format!("panic-{t}-{case}"));
                    failures.push(format!(
                        "{} case {case}: panicked (input {} bytes)",
                        target.name,
                        bytes.len()
                    ));
                    let _ = std::fs::write(keep, &bytes);
                }
            }
            STARTED_MS.store(0, Ordering::Relaxed);
            total += 1;
        }
        let largest = LARGEST.load(Ordering::Relaxed);
        eprintln!(
            "fuzz {:<18} {cases_per_target} cases: {ok} read, {refused} refused, largest allocation {} KiB",
            target.name,
            largest >> 10
        );
        if largest > ALLOCATION_BOUND {
            failures.push(format!(
                "{}: an allocation of {largest} bytes (bound {ALLOCATION_BOUND})",
                target.name
            ));
        }
    }
    std::panic::set_hook(hook);
    eprintln!("fuzz: {total} cases over {} readers", targets.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// 300 cases a reader by default; `LORAE_FUZZ_CASES=10000` is the long run (130 000 cases).
#[test]
fn readers_survive_mutated_files() {
    let cases = match std::env::var("LORAE_FUZZ_CASES") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("LORAE_FUZZ_CASES must be a count, got {v:?}")),
        Err(_) => 300,
    };
    run(cases);
}

#[test]
fn mutations_are_seeded() {
    let seed = b"0123456789 {\"epoch\": 12}".to_vec();
    let a: Vec<Vec<u8>> = {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        (0..50).map(|_| mutate(&seed, &mut rng)).collect()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let b: Vec<Vec<u8>> = (0..50).map(|_| mutate(&seed, &mut rng)).collect();
    assert_eq!(a, b);
    assert!(a.iter().any(|m| m != &seed));
}
