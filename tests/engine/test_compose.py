"""CPU compositing on real photos: every mode, every fit, and bad background images."""

import cv2
import numpy as np
import pytest

from vbg_core.engine.compose import Compositor, blend, blur_background, fit_image, load_image
from vbg_core.shared.errors import MediaError
from vbg_core.shared.settings import Settings

from realdata import DATA


def test_colour_replaces_only_the_background(portrait):
    rgb, truth = portrait
    alpha = np.where(truth, 255, 0).astype(np.uint8)
    out = Compositor(Settings(mode="color", color=(0, 255, 0)))(rgb, alpha)
    assert (out[~truth] == (0, 255, 0)).all()
    assert np.array_equal(out[truth], rgb[truth])


def test_blend_is_exact_to_one_level(astronaut):
    alpha = np.tile(np.linspace(0, 255, astronaut.shape[1]).astype(np.uint8), (astronaut.shape[0], 1))
    background = np.full_like(astronaut, 200)
    a = alpha[:, :, None] / 255.0
    expected = astronaut * a + 200 * (1 - a)
    assert np.abs(blend(astronaut, background, alpha) - expected).max() <= 1.0


def test_transparent_is_rgba_with_the_mask_as_alpha(portrait):
    rgb, truth = portrait
    alpha = np.where(truth, 255, 0).astype(np.uint8)
    out = Compositor(Settings(mode="transparent"))(rgb, alpha)
    assert out.shape == rgb.shape[:2] + (4,)
    assert np.array_equal(out[:, :, 3], alpha) and np.array_equal(out[:, :, :3], rgb)


def _ring(mask: np.ndarray, inner: int, outer: int) -> np.ndarray:
    grow = lambda r: cv2.dilate(mask.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
    return grow(outer) & ~grow(inner)


def test_blur_does_not_halo_the_person_into_the_background(astronaut):
    """A saturated red 'person' on a real photo: the blurred background right next to
    it must not turn red (a plain full-frame blur does)."""
    frame = astronaut.copy()
    person = np.zeros(frame.shape[:2], bool)
    cv2.circle(person.view(np.uint8), (256, 256), 120, 1, -1)
    frame[person] = (255, 0, 0)
    alpha = np.where(person, 255, 0).astype(np.uint8)
    ring = _ring(person, 3, 25)
    redness = lambda img: float((img[..., 0].astype(float) - img[..., 1:].mean(-1))[ring].mean())
    ours = Compositor(Settings(mode="blur", blur="high"))(frame, alpha)
    naive = cv2.GaussianBlur(frame, (0, 0), 24 * 512 / 720)
    assert redness(ours) < redness(astronaut) + 10
    assert redness(naive) > redness(astronaut) + 20   # the scene does show a halo


def test_blur_levels_blur_more(portrait):
    rgb, truth = portrait
    alpha = np.where(truth, 255, 0).astype(np.uint8)
    sharpness = [cv2.Laplacian(blur_background(rgb, alpha, Settings(blur=level).blur), cv2.CV_32F)[~truth].var()
                 for level in ("low", "medium", "high")]
    original = cv2.Laplacian(rgb, cv2.CV_32F)[~truth].var()
    assert original > sharpness[0] > sharpness[1] > sharpness[2]


def test_image_background_cover_crops_without_distortion(astronaut):
    wide = cv2.resize(astronaut, (1024, 512))          # 2:1 image
    out = fit_image(wide, (512, 512), "cover")         # square frame: crop the sides
    assert out.shape == (512, 512, 3)
    assert np.abs(out.astype(int) - wide[:, 256:768]).mean() < 1.0


def test_image_background_contain_and_stretch(astronaut):
    wide = cv2.resize(astronaut, (1024, 512))
    contain = fit_image(wide, (512, 512), "contain")   # bars top and bottom
    assert (contain[:127] == 0).all() and (contain[-127:] == 0).all()
    assert np.abs(contain[128:384].astype(int) - cv2.resize(wide, (512, 256))).mean() < 1.0
    stretch = fit_image(wide, (512, 512), "stretch")
    assert np.abs(stretch.astype(int) - cv2.resize(wide, (512, 512), interpolation=cv2.INTER_AREA)).max() == 0


def test_image_mode_puts_the_picture_behind_the_person(portrait, tmp_path, astronaut):
    rgb, truth = portrait
    path = tmp_path / "beach.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    alpha = np.where(truth, 255, 0).astype(np.uint8)
    out = Compositor(Settings(mode="image", image_path=str(path)))(rgb, alpha)
    expected = fit_image(astronaut, (rgb.shape[1], rgb.shape[0]), "cover")
    assert np.array_equal(out[~truth], expected[~truth])
    assert np.array_equal(out[truth], rgb[truth])


def test_video_mode_puts_each_backdrop_behind_the_person(portrait, astronaut):
    rgb, truth = portrait
    alpha = np.where(truth, 255, 0).astype(np.uint8)
    compose = Compositor(Settings(mode="video", video_path="clip.mp4", video_fit="contain"))
    for backdrop in (astronaut, astronaut[::-1].copy()):       # a new frame each call
        out = compose(rgb, alpha, backdrop=backdrop)
        expected = fit_image(backdrop, (rgb.shape[1], rgb.shape[0]), "contain")
        assert np.array_equal(out[~truth], expected[~truth]) and np.array_equal(out[truth], rgb[truth])
    with pytest.raises(ValueError, match="backdrop"):
        compose(rgb, alpha)


def test_missing_image_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "beach.jpg"
    with pytest.raises(MediaError, match=f"background image not found: {missing}"):
        Compositor(Settings(mode="image", image_path=str(missing)))


@pytest.mark.parametrize("content", [b"", b"this is not a picture", (DATA / "tfjs_pose.jpg").read_bytes()[:2000]])
def test_corrupt_image_names_the_path(tmp_path, content):
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=f"cannot read background image {path}"):
        load_image(str(path))
