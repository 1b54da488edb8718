"""Crop and shrink CelebA's 178x218 JPEGs to small squares, once, before training.

Decoding and shrinking 202,599 JPEGs takes about 1 ms of CPU each; done in
every epoch, that work would compete with training, so it is done once and
the small images are kept on disk. Each image is cut to its centred square
(the face) and downscaled with Lanczos. JPEG draft mode lets the decoder
itself scale by 1/2, 1/4 or 1/8 where the target allows it (sizes up to 89
for CelebA), so decoding stays cheap; at 96x96 it decodes in full, about a
third of the time per image. All cores work at once; a tqdm bar shows
progress.

The job takes minutes, so it must survive being stopped: every image is
written under a temporary name and renamed when complete, so a file with its
final name is always whole, and a re-run converts only what is missing.
Unreadable files (corrupt, truncated, not an image) are skipped and listed.

From a notebook::

    report = prepare_celeba("data/celeba/img_align_celeba")

From the command line::

    python -m my_AE_code.celeba.prepare data/celeba/img_align_celeba --size 96
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from my_AE_code.celeba.files import IMAGE_SUFFIXES, IMAGES_DIR, list_images, prepared_dir
from my_AE_code.paths import data_dir

TEMP_SUFFIX = ".part"
MAX_CHUNK = 256  # images per task: big enough to hide the cost of a task, small for a smooth bar


@dataclass
class PrepareReport:
    """What a preparation run did; `failed` lists (file name, reason) of the unreadable files."""

    out_dir: Path
    size: int
    found: int
    converted: int = 0
    already_done: int = 0
    stale_removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, max_listed: int = 20) -> str:
        """A few lines for people: counts, then the unreadable files."""
        lines = [
            f"{self.found:,} images found; {self.converted:,} converted to "
            f"{self.size}x{self.size} now, {self.already_done:,} were already done, "
            f"{len(self.failed):,} unreadable and skipped. Output: {self.out_dir}"
        ]
        for name, reason in self.failed[:max_listed]:
            lines.append(f"  skipped {name}: {reason}")
        if len(self.failed) > max_listed:
            lines.append(f"  ... and {len(self.failed) - max_listed:,} more (see report.failed)")
        return "\n".join(lines)


def prepare_celeba(
    src_dir: str | Path,
    out_dir: str | Path | None = None,
    size: int = 96,
    *,
    workers: int | None = None,
    quality: int = 95,
    verbose: bool = True,
) -> PrepareReport:
    """Write every image of `src_dir` as a `size` x `size` RGB JPEG into `out_dir`.

    `out_dir` defaults to ``prepared_<size>`` next to `src_dir`. `workers`
    defaults to all cores; 0 or 1 runs in this process. Images already in
    `out_dir` are kept, so an interrupted run only needs to be started again.
    Raises FileNotFoundError when `src_dir` is missing or holds no images.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1 pixel, not {size}.")
    src_dir = Path(src_dir)
    names = _source_images(src_dir)
    out_dir = Path(out_dir) if out_dir is not None else prepared_dir(src_dir.parent, size)
    if out_dir.resolve() == src_dir.resolve():
        raise ValueError("The output folder must differ from the source folder.")
    out_dir.mkdir(parents=True, exist_ok=True)

    report = PrepareReport(out_dir=out_dir, size=size, found=len(names))
    report.stale_removed = _remove_stale_temp_files(out_dir)
    done = {entry.name for entry in os.scandir(out_dir)}
    todo = [name for name in names if _output_name(name) not in done]
    report.already_done = len(names) - len(todo)

    workers = _cpu_count() if workers is None else workers
    # On stdout: a progress bar is no warning, and Jupyter shows stderr in red.
    bar = tqdm(total=len(names), initial=report.already_done, unit="img", disable=not verbose,
               file=sys.stdout)
    # closing() shuts the worker pool down at once if this loop is interrupted.
    with bar, closing(_run_chunks(todo, src_dir, out_dir, size, quality, workers)) as results:
        try:
            for converted, failed in results:
                report.converted += converted
                report.failed.extend(failed)
                bar.update(converted + len(failed))
        except KeyboardInterrupt:
            print(f"\nInterrupted after {report.converted:,} new images; run again to finish.")
            raise
    report.failed.sort()
    if verbose:
        print(report.summary())
    return report


def shrink_image(path: str | Path, size: int) -> Image.Image:
    """Open one image and return its centred square, downscaled to `size` x `size`, in RGB."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            # Ask the decoder for the smallest 1/1, 1/2, 1/4 or 1/8 scale whose
            # centred square is still at least `size` wide.
            scale = size / min(image.size)
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        rgb = _to_rgb(image)
    width, height = rgb.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    box = (left, top, left + side, top + side)
    return rgb.resize((size, size), Image.Resampling.LANCZOS, box=box)


def convert_file(src: Path, dst: Path, size: int, quality: int = 95) -> None:
    """Shrink `src` and write it to `dst` so that `dst` either is complete or does not exist."""
    image = shrink_image(src, size)
    temp = dst.with_name(dst.name + TEMP_SUFFIX)
    try:
        image.save(temp, format="JPEG", quality=quality)
        os.replace(temp, dst)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _to_rgb(image: Image.Image) -> Image.Image:
    """Grey, CMYK, palette or transparent images as plain RGB; transparency becomes white."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    background = Image.new("RGBA", image.size, "white")
    return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")


def _source_images(src_dir: Path) -> list[str]:
    """Sorted image file names in `src_dir`; a clear error when there are none."""
    if not src_dir.is_dir():
        raise FileNotFoundError(
            f"CelebA source folder {src_dir} does not exist. Put the unzipped "
            f"{IMAGES_DIR}/ there (see data/README.md)."
        )
    names = list_images(src_dir)
    if not names:
        raise FileNotFoundError(
            f"CelebA source folder {src_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
            "was the zip file unpacked there? (see data/README.md)"
        )
    return names


def _output_name(name: str) -> str:
    return Path(name).stem + ".jpg"


def _remove_stale_temp_files(out_dir: Path) -> int:
    """Delete what a killed run left half-written; returns how many."""
    stale = [entry.path for entry in os.scandir(out_dir) if entry.name.endswith(TEMP_SUFFIX)]
    for path in stale:
        os.remove(path)
    return len(stale)


def _run_chunks(todo, src_dir, out_dir, size, quality, workers):
    """Yield (converted, failed) per chunk of work, from this process or a pool."""
    if not todo:
        return
    if workers <= 1:
        for start in range(0, len(todo), MAX_CHUNK):
            yield _convert_chunk(todo[start : start + MAX_CHUNK], src_dir, out_dir, size, quality)
        return
    chunk = max(1, min(MAX_CHUNK, math.ceil(len(todo) / (4 * workers))))
    # "spawn" starts clean workers: forking a notebook's process that runs
    # TensorFlow's threads can deadlock.
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
    )
    try:
        chunks = [todo[start : start + chunk] for start in range(0, len(todo), chunk)]
        futures = [
            pool.submit(_convert_chunk, names, src_dir, out_dir, size, quality) for names in chunks
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # On Ctrl-C, drop the chunks not started; those running finish whole files.
        pool.shutdown(wait=True, cancel_futures=True)


def _convert_chunk(names, src_dir, out_dir, size, quality):
    """Convert some images; a file that fails is recorded, never fatal."""
    converted, failed = 0, []
    for name in names:
        try:
            convert_file(src_dir / name, out_dir / _output_name(name), size, quality)
            converted += 1
        except Exception as error:  # Pillow raises many types for broken files.
            failed.append((name, f"{type(error).__name__}: {error}"))
    return converted, failed


def _ignore_sigint():
    """Workers leave Ctrl-C to the main process, which stops handing out work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cpu_count() -> int:
    """The cores this process may use (fewer than the machine's in a container or job)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+: respects CPU affinity.
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m my_AE_code.celeba.prepare",
        description="Crop CelebA's images to their centred square and shrink them, in parallel; "
        "re-running resumes an interrupted run.",
    )
    parser.add_argument(
        "src",
        nargs="?",
        type=Path,
        default=data_dir() / "celeba" / IMAGES_DIR,
        help="folder of CelebA's JPEGs (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: prepared_<size> by src)")
    parser.add_argument("--size", type=int, default=96, help="side of the squares (default: 96)")
    parser.add_argument("--workers", type=int, help="processes (default: all cores)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (default: 95)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and summary")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    try:
        prepare_celeba(
            args.src,
            args.out,
            args.size,
            workers=args.workers,
            quality=args.quality,
            verbose=not args.quiet,
        )
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
