//! What `lorae fid` compares: parsing of set names, image folders as pytorch-fid reads them, and
//! decoded samples quantised to pixels.

use lorae::config::{DatasetKind, PixelRange};
use lorae::data::Split;
use lorae::eval::fid::scorer::quantise;
use lorae::eval::fid::source::{load_folder, ImageSource};

#[test]
fn set_names_parse_to_sources() {
    let parse = |s: &str| ImageSource::parse(s).unwrap();
    assert_eq!(
        parse("dataset:mnist"),
        ImageSource::Dataset {
            kind: DatasetKind::Mnist,
            split: Split::Test
        }
    );
    assert_eq!(
        parse("dataset:fashion-mnist:train"),
        ImageSource::Dataset {
            kind: DatasetKind::FashionMnist,
            split: Split::Train
        }
    );
    assert_eq!(parse("dataset:mnist:test").label(), "mnist-test");
    assert_eq!(
        parse("stats/real.NPZ"),
        ImageSource::Stats("stats/real.NPZ".into())
    );
    assert_eq!(parse("samples"), ImageSource::Folder("samples".into()));
    let err = ImageSource::parse("dataset:mnist:valid")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown split `valid`: expected one of train, test"),
        "{err}"
    );
    let err = ImageSource::parse("dataset:folder")
        .unwrap_err()
        .to_string();
    assert!(err.contains("give the folder's path"), "{err}");
}

#[test]
fn folders_load_as_rgb_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let grey = image::GrayImage::from_fn(5, 4, |x, y| image::Luma([(10 * x + y) as u8]));
    grey.save(dir.path().join("b.png")).unwrap();
    let rgb = image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8, y as u8, 200]));
    rgb.save(dir.path().join("a.png")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    let set = load_folder(dir.path(), None).unwrap();
    assert_eq!((set.len(), set.shape), (2, [3, 4, 5]));
    let plane = 20;
    assert_eq!(set.pixels[2 * plane + 7], 200, "a.png first, blue plane");
    let second = &set.pixels[3 * plane..];
    assert_eq!(&second[..plane], &second[plane..2 * plane], "grey repeated");
    assert_eq!(second[5 + 2], 21, "pixel (x=2, y=1) of the grey image");
    assert_eq!(load_folder(dir.path(), Some(1)).unwrap().len(), 1);

    image::RgbImage::new(6, 4)
        .save(dir.path().join("c.png"))
        .unwrap();
    let err = load_folder(dir.path(), None).unwrap_err().to_string();
    assert!(err.contains("c.png") && err.contains("one size"), "{err}");
}

#[test]
fn decoded_samples_quantise_like_saved_pngs() {
    let values = [-1.0, -0.2, 0.0, 0.5, 1.0, 1.7];
    let set = quantise(&values, [1, 2, 3], PixelRange::PlusMinusOne);
    assert_eq!(set.pixels, vec![0, 102, 128, 191, 255, 255]);
    assert_eq!(set.len(), 1);
}
