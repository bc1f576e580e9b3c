//! Real dataset formats, written small by the tests and loaded back: IDX (raw and gzipped),
//! CIFAR-10 binary batches, CelebA's JPEG folder with its partition file, an image folder.
//! Every kind of bad input is an error naming the file, never a panic.

use std::io::Write;
use std::path::Path;

use lorae::config::{DatasetKind, ModelKind, RunConfig};
use lorae::data::idx::{encode_images, encode_labels, IdxImages};
use lorae::data::{self, cifar, mnist::Mnist, DataSource};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random()).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes an MNIST-format directory with `n_train`/`n_test` random 28×28 digits.
fn write_idx(dir: &Path, n_train: usize, n_test: usize, gz: bool) -> (IdxImages, Vec<u8>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut train = None;
    for (prefix, n, seed) in [("train", n_train, 1), ("t10k", n_test, 2)] {
        let images = IdxImages {
            count: n,
            rows: 28,
            cols: 28,
            pixels: random_bytes(n * 784, seed),
        };
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let (img, lab) = (encode_images(&images), encode_labels(&labels));
        let ext = if gz { ".gz" } else { "" };
        let write = |name: String, bytes: Vec<u8>| {
            std::fs::write(dir.join(name + ext), if gz { gzip(&bytes) } else { bytes }).unwrap()
        };
        write(format!("{prefix}-images-idx3-ubyte"), img);
        write(format!("{prefix}-labels-idx1-ubyte"), lab);
        if prefix == "train" {
            train = Some((images, labels));
        }
    }
    train.unwrap()
}

fn mnist(dir: &Path) -> Mnist {
    Mnist {
        dir: dir.to_path_buf(),
        train_size: usize::MAX,
        test_size: usize::MAX,
    }
}

#[test]
fn idx_files_raw_and_gzipped_load_back_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    for gz in [false, true] {
        let dir = tmp.path().join(if gz { "gz" } else { "raw" });
        let (images, labels) = write_idx(&dir, 7, 3, gz);
        let raw = mnist(&dir).load_split_raw("train", usize::MAX).unwrap();
        assert_eq!(raw.pixels, images.pixels);
        assert_eq!(raw.shape, [1, 28, 28]);
        assert_eq!(raw.labels.as_deref(), Some(&labels[..]));
        let splits = mnist(&dir).load().unwrap();
        assert_eq!((splits.train.len(), splits.eval.len()), (7, 3));
        assert_eq!(splits.train.shape, [1, 32, 32]);
        assert_eq!(splits.eval.labels, Some(vec![0, 1, 2]));
    }
}

#[test]
fn resizing_28_to_32_keeps_a_flat_digit_flat_and_the_mean_close() {
    let tmp = tempfile::tempdir().unwrap();
    let images = IdxImages {
        count: 1,
        rows: 28,
        cols: 28,
        pixels: vec![200; 784],
    };
    for prefix in ["train", "t10k"] {
        std::fs::write(
            tmp.path().join(format!("{prefix}-images-idx3-ubyte")),
            encode_images(&images),
        )
        .unwrap();
        std::fs::write(
            tmp.path().join(format!("{prefix}-labels-idx1-ubyte")),
            encode_labels(&[4]),
        )
        .unwrap();
    }
    let splits = mnist(tmp.path()).load().unwrap();
    assert!(splits.train.pixels.iter().all(|&p| p == 200));
}

#[test]
fn bad_idx_files_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_idx(dir, 4, 2, false);
    let images = dir.join("train-images-idx3-ubyte");
    let good = std::fs::read(&images).unwrap();
    let expect_err = |needle: &str| {
        let err = mnist(dir).load().unwrap_err().to_string();
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
        err
    };
    // Wrong magic (labels magic in an images file).
    let mut bad = good.clone();
    bad[3] = 0x01;
    std::fs::write(&images, &bad).unwrap();
    let err = expect_err("wrong IDX magic 0x00000801");
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");
    // Truncated.
    std::fs::write(&images, &good[..good.len() - 10]).unwrap();
    expect_err("truncated");
    std::fs::write(&images, &good[..6]).unwrap();
    expect_err("truncated IDX header");
    // Corrupt gzip.
    std::fs::write(&images, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    expect_err("corrupt gzip");
    std::fs::write(&images, &good).unwrap();
    // Counts disagree between images and labels.
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        encode_labels(&[1, 2, 3]),
    )
    .unwrap();
    expect_err("3 labels for 4 images");
    // A missing file and a missing directory.
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte")).unwrap();
    expect_err("train-labels-idx1-ubyte`: missing");
    let err = mnist(&dir.join("nowhere")).load().unwrap_err().to_string();
    assert!(
        err.contains("nowhere") && err.contains("lorae data fetch"),
        "{err}"
    );
}

#[test]
fn cifar_batches_load_back_exactly_and_bad_records_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    let mut expected = Vec::new();
    for (i, name) in [
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
    ]
    .iter()
    .enumerate()
    {
        let mut bytes = Vec::new();
        for r in 0..2 {
            bytes.push(((i * 2 + r) % 10) as u8);
            bytes.extend(random_bytes(3072, (i * 2 + r) as u64));
        }
        std::fs::write(root.join(format!("{name}.bin")), &bytes).unwrap();
        expected.push(bytes);
    }
    let source = cifar::Cifar10 {
        dir: tmp.path().to_path_buf(),
        train_size: 9,
        test_size: 100,
    };
    let splits = source.load().unwrap();
    assert_eq!((splits.train.len(), splits.eval.len()), (9, 2));
    assert_eq!(splits.train.shape, [3, 32, 32]);
    assert_eq!(&splits.train.pixels[..3072], &expected[0][1..3073]);
    assert_eq!(&splits.train.pixels[8 * 3072..], &expected[4][1..3073]);
    assert_eq!(splits.train.labels.as_ref().unwrap()[..4], [0, 1, 2, 3]);
    assert_eq!(&splits.eval.pixels[3072..], &expected[5][3074..]);
    // A record of the wrong length.
    std::fs::write(root.join("test_batch.bin"), &expected[5][..5000]).unwrap();
    let err = source.load().unwrap_err().to_string();
    assert!(
        err.contains("test_batch.bin") && err.contains("3073-byte records"),
        "{err}"
    );
}

fn write_png(path: &Path, w: u32, h: u32, colour: [u8; 3]) {
    image::RgbImage::from_pixel(w, h, image::Rgb(colour))
        .save(path)
        .unwrap();
}

#[test]
fn celeba_folder_with_partition_file_loads_its_splits() {
    let tmp = tempfile::tempdir().unwrap();
    let images = tmp.path().join("img_align_celeba");
    std::fs::create_dir_all(&images).unwrap();
    let mut partition = String::new();
    for i in 1..=6u8 {
        let name = format!("{i:06}.jpg");
        // A 178×218 face-sized image: the centre 148×148 is one colour, the rest another.
        let mut img = image::RgbImage::from_pixel(178, 218, image::Rgb([0, 0, 0]));
        for y in 35..183 {
            for x in 15..163 {
                img.put_pixel(x, y, image::Rgb([40 * i, 100, 200]));
            }
        }
        img.save(images.join(&name)).unwrap();
        partition += &format!("{name} {}\n", [0, 0, 1, 2, 0, 2][i as usize - 1]);
    }
    std::fs::write(tmp.path().join("list_eval_partition.txt"), &partition).unwrap();
    let mut config = RunConfig::for_dataset(ModelKind::Ae, DatasetKind::Celeba).data;
    config.data_dir = Some(tmp.path().to_path_buf());
    let splits = data::load(&config, 0).unwrap();
    assert_eq!((splits.train.len(), splits.eval.len()), (3, 2));
    assert_eq!(splits.train.shape, [3, 64, 64]);
    // Eval image 0 is file 4: red 160 everywhere after the crop (JPEG: within a few levels).
    // Away from the crop border, where JPEG's 8×8 blocks blur the edge of the two colours.
    let at = |c: usize, y: usize, x: usize| splits.eval.pixels[c * 64 * 64 + y * 64 + x];
    for y in 4..60 {
        for x in 4..60 {
            assert!(
                at(0, y, x).abs_diff(160) <= 4,
                "red at ({y}, {x}): {}",
                at(0, y, x)
            );
            assert!(
                at(2, y, x).abs_diff(200) <= 4,
                "blue at ({y}, {x}): {}",
                at(2, y, x)
            );
        }
    }
    // An undecodable image and a bad partition line.
    std::fs::write(images.join("000004.jpg"), b"not a jpeg").unwrap();
    let err = data::load(&config, 0).unwrap_err().to_string();
    assert!(
        err.contains("000004.jpg") && err.contains("cannot decode"),
        "{err}"
    );
    std::fs::write(
        tmp.path().join("list_eval_partition.txt"),
        "000001.jpg train\n",
    )
    .unwrap();
    let err = data::load(&config, 0).unwrap_err().to_string();
    assert!(
        err.contains("list_eval_partition.txt") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn image_folder_loads_pngs_exactly_and_holds_out_every_tenth() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
    for i in 0..22u8 {
        let dir = if i % 2 == 0 {
            tmp.path().to_path_buf()
        } else {
            tmp.path().join("sub")
        };
        write_png(
            &dir.join(format!("img{i:02}.png")),
            32,
            32,
            [i * 10, 255 - i, 7],
        );
    }
    std::fs::write(tmp.path().join("notes.txt"), "ignored").unwrap();
    let mut config = RunConfig::for_dataset(ModelKind::Ae, DatasetKind::Folder).data;
    config.data_dir = Some(tmp.path().to_path_buf());
    let splits = data::load(&config, 0).unwrap();
    assert_eq!((splits.train.len(), splits.eval.len()), (20, 2));
    // Sorted paths: img00, img02, ..., img20, then sub/img01, ...; positions 9 and 19 are img18
    // and sub/img17.
    let plane = 32 * 32;
    assert!(splits.eval.pixels[..plane].iter().all(|&r| r == 180));
    assert!(splits.eval.pixels[plane..2 * plane]
        .iter()
        .all(|&g| g == 237));
    assert!(splits.eval.pixels[3 * plane..4 * plane]
        .iter()
        .all(|&r| r == 170));
    // Resized to 64 with a non-square source: centre-cropped first.
    write_png(&tmp.path().join("wide.png"), 80, 40, [1, 2, 3]);
    config.image_size = 64;
    let splits = data::load(&config, 0).unwrap();
    assert_eq!(splits.train.shape, [3, 64, 64]);
    // An undecodable file and a missing folder.
    std::fs::write(tmp.path().join("broken.png"), b"\x89PNG but not really").unwrap();
    let err = data::load(&config, 0).unwrap_err().to_string();
    assert!(err.contains("broken.png"), "{err}");
    config.data_dir = Some(tmp.path().join("absent"));
    let err = data::load(&config, 0).unwrap_err().to_string();
    assert!(err.contains("absent"), "{err}");
}

#[test]
#[ignore = "needs MNIST: lorae data fetch mnist (.ci/run fetches it and runs --include-ignored)"]
fn real_mnist_from_the_fetch_cache_has_the_known_counts_and_mean() {
    // The numbers are MNIST's published ones (mean 0.1307 of the 28×28 training pixels).
    let dir = crate::fetched("mnist/train-images-idx3-ubyte")
        .parent()
        .unwrap()
        .to_path_buf();
    let source = mnist(&dir);
    let raw = source.load_split_raw("train", usize::MAX).unwrap();
    assert_eq!(raw.len(), 60_000);
    let mean = raw.pixels.iter().map(|&p| p as f64).sum::<f64>() / raw.pixels.len() as f64 / 255.0;
    assert!((mean - 0.1307).abs() < 1e-3, "{mean}");
    let mut counts = [0usize; 10];
    raw.labels
        .as_ref()
        .unwrap()
        .iter()
        .for_each(|&l| counts[l as usize] += 1);
    assert_eq!(
        counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let splits = source.load().unwrap();
    assert_eq!((splits.train.len(), splits.eval.len()), (60_000, 10_000));
    assert_eq!(splits.eval.shape, [1, 32, 32]);
}
