"""A reader's own CelebA-format folder of real photographs works, attribute file or not.

The photographs are real: matplotlib's portrait of Grace Hopper and
scikit-learn's two sample photographs, cut into 178x218 windows (CelebA's
size) and saved as JPEGs in CelebA's layout, without CelebA's CSV files.
"""

import matplotlib.cbook
import nbformat
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_images

from my_AE_code.celeba import celeba_datasets, find_or_make_celeba, prepare_celeba
from my_AE_code.celeba.files import IMAGES_DIR
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import CELEBA_LAYOUT
from my_AE_code.run_notebooks import notebook_paths, run_notebook

N_PHOTOS = 48


def real_photographs():
    portrait = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return [portrait.convert("RGB"), *(Image.fromarray(a) for a in load_sample_images().images)]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """``<data>/celeba/img_align_celeba/000001.jpg`` ... cut from real photographs."""
    data = tmp_path_factory.mktemp("real_data")
    images = data / "celeba" / IMAGES_DIR
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    photos = real_photographs()
    for index in range(N_PHOTOS):
        photo = photos[index % len(photos)]
        left = int(rng.integers(0, photo.width - 178))
        top = int(rng.integers(0, photo.height - 218))
        window = photo.crop((left, top, left + 178, top + 218))
        window.save(images / f"{index + 1:06d}.jpg", quality=90)
    return data


def test_the_real_folder_is_used_not_the_standin(data_dir, recwarn):
    source = find_or_make_celeba(data_dir)
    assert source.root == data_dir / "celeba" and not source.is_standin
    assert not recwarn.list  # no stand-in warning


def test_real_photographs_prepare_stream_and_train(data_dir, tmp_path):
    report = prepare_celeba(data_dir / "celeba" / IMAGES_DIR, tmp_path / "prepared", workers=1,
                            verbose=False)
    assert report.converted == N_PHOTOS and not report.failed
    data = celeba_datasets(report.out_dir, batch_size=16, seed=0)
    assert len(data.train_files) + len(data.test_files) == N_PHOTOS  # no partition file: 84/16
    batch = next(iter(data.train))
    assert batch.shape == (16, 96, 96, 3) and 0.0 <= float(batch.numpy().min())
    with pytest.raises(FileNotFoundError, match="list_attr_celeba"):
        celeba_datasets(report.out_dir, with_attributes=True)

    # The stream trains a model of CelebA's layout: the same 96x96x3 input and four stride-2
    # convolutions each way. Eight filters each show that as the posts' 5.1 million
    # parameters do (the notebooks train those), in a fraction of the time.
    small = {**CELEBA_LAYOUT, "encoder_conv_filters": [8] * 4,
             "decoder_conv_t_filters": [8, 8, 8, 3], "z_dim": 16}
    vae = MyVariationalAutoencoder(**small, solution_type=3, fact=5.0, seed=0)
    vae.compile_myVAE(0.001)
    history = vae.train_myVAE(data.train, batch_size=None, epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.slow
def test_notebooks_09_and_11_run_on_real_photographs_without_attributes(data_dir, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path / "results"))
    outputs = {}
    for prefix in ("09", "11"):  # 11 finds no model of notebook 10 and trains its own
        run = run_notebook(notebook_paths([prefix])[0], tmp_path / "notebooks", budget="smoke")
        assert run.ok, run.problems
        executed = nbformat.read(run.output, as_version=4)
        outputs[prefix] = "".join(o.get("text", "") for c in executed.cells
                                  if c.cell_type == "code" for o in c.outputs)
    assert "CelebA: 48 images" in outputs["09"]
    assert "the stream yields images only" in outputs["09"]
    assert "no model from notebook 10" in outputs["11"]
    assert "this folder has no attribute labels, so the attribute vectors are skipped" in \
        outputs["11"]
