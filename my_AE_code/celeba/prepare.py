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
written under a temporary name, read back, and renamed when complete, so a
file with its final name is always whole, and a re-run converts only what is
missing. A temporary file is always a new one with a random name of this
module's own pattern: nothing else in the output folder is written through
or deleted, and a long image name still leaves room for it. The worker
processes (`my_AE_code.celeba.workers`) end when the process that started
them dies (a killed notebook kernel), instead of converting on and then
waiting forever.

What could go wrong silently is refused or reported instead: unreadable
files (corrupt, truncated, not an image, a symbolic link in a loop) are
skipped and listed, as is a second source for one output (``a.jpg`` and
``a.png`` would both become ``a.jpg``); a folder prepared at another size is
not taken as done; 16-bit PNGs and photos with an EXIF orientation come out
as they look. A folder's images can be checked later with `verify_prepared`
(or ``--verify``).

From a notebook::

    report = prepare_celeba("data/celeba/img_align_celeba")

From the command line::

    python -m my_AE_code.celeba.prepare data/celeba/img_align_celeba --size 96
    python -m my_AE_code.celeba.prepare --verify   # check data/celeba/prepared_96
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
import re
import secrets
import sys
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PIL import Image, ImageOps
from tqdm import tqdm

from my_AE_code.celeba.files import (
    IMAGE_SUFFIXES,
    IMAGES_DIR,
    list_images,
    prepared_dir,
    scan_images,
)
from my_AE_code.celeba.workers import cpu_count, run_chunks
from my_AE_code.paths import data_dir

# A temporary file is named .celeba-prepare-<16 random hex digits>[.<output name>].part:
# hidden from image listings, and recognisable as this module's when a killed run left it.
TEMP_PREFIX = ".celeba-prepare-"
TEMP_SUFFIX = ".part"
TEMP_NAME = re.compile(rf"{re.escape(TEMP_PREFIX)}[0-9a-f]{{16}}(\..+)?{re.escape(TEMP_SUFFIX)}",
                       re.DOTALL)
TEMP_HINT_MAX_BYTES = 200  # output names up to this long go into the temporary name (max 255)
MAX_QUALITY = 95  # Pillow: above 95 the files grow without looking better


@dataclass
class PrepareReport:
    """What a preparation run did; `failed` lists (file name, reason) of the skipped files."""

    out_dir: Path
    size: int
    found: int
    converted: int = 0
    already_done: int = 0
    stale_removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, max_listed=20):
        """A few lines for people: counts, then the skipped files and why."""
        lines = [
            f"{self.found:,} images found; {self.converted:,} converted to "
            f"{self.size}x{self.size} now, {self.already_done:,} were already done, "
            f"{len(self.failed):,} skipped. Output: {self.out_dir}"
        ]
        if self.stale_removed:
            lines.append(f"  removed {self.stale_removed:,} half-written temporary files of an "
                         "interrupted run")
        for name, reason in self.failed[:max_listed]:
            lines.append(f"  skipped {name}: {reason}")
        if len(self.failed) > max_listed:
            lines.append(f"  ... and {len(self.failed) - max_listed:,} more (see report.failed)")
        return "\n".join(lines)


def prepare_celeba(
    src_dir,
    out_dir=None,
    size=96,
    *,
    workers=None,
    quality=95,
    verbose=True,
):
    """Write every image of `src_dir` as a `size` x `size` RGB JPEG into `out_dir`.

    `out_dir` defaults to ``prepared_<size>`` next to `src_dir`. `workers`
    defaults to all cores; 0 or 1 runs in this process. Images already in
    `out_dir` are kept, so an interrupted run only needs to be started again.
    Raises FileNotFoundError when `src_dir` is missing or holds no images,
    NotADirectoryError when `out_dir` (or a folder above it) is a file,
    ValueError when `out_dir` holds images of another size.
    """
    _check_setting("size", size, 1)
    _check_setting("quality", quality, 1, MAX_QUALITY)
    src_dir = Path(src_dir)
    names, unreadable = _source_images(src_dir)
    out_dir = Path(out_dir) if out_dir is not None else prepared_dir(src_dir.parent, size)
    if out_dir.resolve() == src_dir.resolve():
        raise ValueError("The output folder must differ from the source folder.")
    _make_output_dir(out_dir)

    report = PrepareReport(out_dir=out_dir, size=size, found=len(names) + len(unreadable))
    names, report.failed = _one_source_per_output(names)
    report.failed += unreadable
    report.stale_removed = _remove_stale_temp_files(out_dir)
    done = {entry.name for entry in os.scandir(out_dir)}
    todo = [name for name in names if _output_name(name) not in done]
    _check_existing_size(out_dir, sorted(done.intersection(map(_output_name, names))), size)
    report.already_done = len(names) - len(todo)

    workers = cpu_count() if workers is None else workers
    convert = partial(_convert_chunk, src_dir=src_dir, out_dir=out_dir, size=size, quality=quality)
    # On stdout: a progress bar is no warning, and Jupyter shows stderr in red.
    bar = tqdm(total=report.found, initial=report.found - len(todo), unit="img",
               disable=not verbose, file=sys.stdout)
    try:
        # closing() shuts the worker pool down at once if this loop is interrupted.
        with bar, closing(run_chunks(convert, todo, workers)) as results:
            for converted, failed in results:
                report.converted += converted
                report.failed.extend(failed)
                bar.update(converted + len(failed))
    except KeyboardInterrupt:
        # Counted on disk: chunks that were running when Ctrl-C came have finished since.
        print(f"\nInterrupted: {_count_outputs(out_dir, names):,} of {len(names):,} images are "
              f"prepared in {out_dir}; run again to finish.")
        raise
    report.failed.sort()
    if verbose:
        print(report.summary())
    return report


def verify_prepared(
    folder, size=96, *, workers=None, verbose=True
):
    """(file name, reason) of each image in `folder` that is not a whole `size`-square RGB JPEG.

    Every file is decoded in full, as training will: a damaged image found
    now costs a re-run of the preparation (delete it, prepare again), found
    by ``fit`` it stops training in the middle of an epoch.
    """
    _check_setting("size", size, 1)
    folder = Path(folder)
    names = list_images(folder)
    if not names:
        raise FileNotFoundError(f"{folder} holds no images to verify; prepare them first.")
    workers = cpu_count() if workers is None else workers
    check = partial(_verify_chunk, folder=folder, size=size)
    damaged = []
    with tqdm(total=len(names), unit="img", disable=not verbose, file=sys.stdout) as bar:
        with closing(run_chunks(check, names, workers)) as results:
            for fine, found in results:
                damaged.extend(found)
                bar.update(fine + len(found))
    damaged.sort()
    if verbose:
        print(f"{len(names):,} images checked in {folder}, {len(damaged):,} damaged.")
        for name, reason in damaged:
            print(f"  {name}: {reason}")
    return damaged


def shrink_image(path, size):
    """Open one image and return its centred square, downscaled to `size` x `size`, in RGB."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            # Ask the decoder for the smallest 1/1, 1/2, 1/4 or 1/8 scale whose
            # centred square is still at least `size` wide.
            scale = size / min(image.size)
            image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        # A photo taken with the camera turned is stored sideways, with a tag to turn it back.
        ImageOps.exif_transpose(image, in_place=True)
        rgb = _to_rgb(image)
    width, height = rgb.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    box = (left, top, left + side, top + side)
    return rgb.resize((size, size), Image.Resampling.LANCZOS, box=box)


def convert_file(src, dst, size, quality=95):
    """Shrink `src` and write it to `dst` so that `dst` either is complete or does not exist.

    The written file is read back before it gets its final name: a file that
    training could not decode is never counted as done.
    """
    image = shrink_image(src, size)
    temp, descriptor = _new_temp_file(dst)
    try:
        # Through the descriptor O_EXCL made: a name swapped meanwhile is never written.
        with os.fdopen(descriptor, "wb") as file:
            image.save(file, format="JPEG", quality=quality)
        damage = _damage(temp, size)
        if damage:
            raise OSError(f"the written image does not read back: {damage}")
        os.replace(temp, dst)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _new_temp_file(dst):
    """Create a new, empty temporary file next to `dst`, for this call alone.

    Returns its path and an open descriptor for writing it.

    The name is random and the file is created with O_EXCL, which refuses any
    existing name, a planted symbolic link included, instead of writing
    through it. It has this module's pattern (`TEMP_NAME`), so that only such
    files are deleted as stale. The output name is part of it when short, to
    show whose it is; a long one (file names have at most 255 bytes) is left
    out rather than make the name too long. Unlike `tempfile.mkstemp`, whose
    files only their owner may read, this one gets the permissions the
    umask gives, as the renamed image should.
    """
    hint = "." + dst.name if len(os.fsencode(dst.name)) <= TEMP_HINT_MAX_BYTES else ""
    temp = dst.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}{hint}{TEMP_SUFFIX}")
    return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def _damage(path, size):
    """Why `path` is not a whole `size` x `size` RGB JPEG; None if it is one."""
    try:
        with Image.open(path) as image:
            image.load()  # decodes all of it: a truncated file fails here
            if (image.format, image.mode, image.size) != ("JPEG", "RGB", (size, size)):
                return (f"a {image.width}x{image.height} {image.mode} {image.format} image, "
                        f"not a {size}x{size} RGB JPEG")
    except Exception as error:  # Pillow raises many types for broken files.
        return f"{type(error).__name__}: {error}"
    return None


def _to_rgb(image):
    """Grey, 16-bit grey, CMYK, palette or transparent images as plain RGB.

    Transparency becomes white. 16-bit grey (modes ``I;16`` and ``I`` of a
    PNG) is scaled to 8 bits first: ``convert`` would clip it, nearly all white.
    """
    if image.mode.startswith("I"):
        image = image.point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    background = Image.new("RGBA", image.size, "white")
    return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")


def _check_setting(name, value, low, high=None):
    """A whole number in range: a float size would make every image fail, one by one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, not {value!r} ({type(value).__name__}).")
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high else f"at least {low}"
        raise ValueError(f"{name} must be {limits}, not {value}.")


def _source_images(src_dir):
    """Sorted image names in `src_dir`, and (name, reason) of the unreadable ones.

    Unreadable ones (a symbolic link in a loop) are reported, not fatal; a
    folder with neither is a clear error.
    """
    if not src_dir.is_dir():
        raise FileNotFoundError(
            f"CelebA source folder {src_dir} does not exist. Put the unzipped "
            f"{IMAGES_DIR}/ there (see data/README.md)."
        )
    names, unreadable = scan_images(src_dir)
    if not names and not unreadable:
        raise FileNotFoundError(
            f"CelebA source folder {src_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
            "was the zip file unpacked there? (see data/README.md)"
        )
    return names, unreadable


def _make_output_dir(out_dir):
    """Create `out_dir` and the folders above it; a file in the way is a clear error."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        in_way = next((path for path in (out_dir, *out_dir.parents)
                       if os.path.lexists(path) and not path.is_dir()), out_dir)
        raise NotADirectoryError(
            f"The output folder {out_dir} cannot be made: {in_way} exists and is not a folder. "
            "Choose another output folder (out_dir, or --out on the command line), or move "
            f"{in_way} away."
        ) from error


def _output_name(name):
    return Path(name).stem + ".jpg"


def _one_source_per_output(names):
    """One source per output name, and (name, reason) for the sources left out.

    ``a.jpg`` and ``a.png`` would both become ``a.jpg``, the second written
    over the first. The one already named like its output wins (else the
    first by name); the others are skipped and reported, never merged.
    """
    by_output: dict[str, list[str]] = {}
    for name in names:
        by_output.setdefault(_output_name(name), []).append(name)
    kept, skipped = [], []
    for output, sources in by_output.items():
        winner = output if output in sources else sources[0]
        kept.append(winner)
        skipped += [
            (name, f"it would become {output}, as {winner} does; rename one of them and run again")
            for name in sources
            if name != winner
        ]
    return sorted(kept), skipped


def _check_existing_size(out_dir, done, size):
    """Refuse to complete a folder of images of another size with `size` ones."""
    for name in done:
        try:
            with Image.open(out_dir / name) as image:
                found = image.size
        except OSError:
            continue  # a damaged file says nothing about the folder; verify_prepared finds it
        if found != (size, size):
            raise ValueError(
                f"{out_dir} already holds {found[0]}x{found[1]} images (e.g. {name}), not "
                f"{size}x{size}: prepare into another folder (by default prepared_{size}, next "
                "to the source folder), or empty this one first."
            )
        return


def _count_outputs(out_dir, names):
    """How many of the outputs of `names` are in `out_dir` now."""
    present = {entry.name for entry in os.scandir(out_dir)}
    return sum(_output_name(name) in present for name in names)


def _remove_stale_temp_files(out_dir):
    """Delete what a killed run left half-written; returns how many.

    Only regular files named by `_new_temp_file` are deleted: anything else
    ending in ``.part`` (a user's file, a folder, a symbolic link) is not
    this module's to delete.
    """
    stale = [
        entry.path
        for entry in os.scandir(out_dir)
        if TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
    ]
    for path in stale:
        os.remove(path)
    return len(stale)


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


def _verify_chunk(names, folder, size):
    """(how many are fine, [(name, reason), ...] of the damaged) for some prepared images."""
    damaged = [(name, reason) for name in names if (reason := _damage(folder / name, size))]
    return len(names) - len(damaged), damaged


def main(argv=None):
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
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality, 1-95 (default: 95)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and summary")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="only check the output folder: decode every image, list the damaged ones",
    )
    args = parser.parse_args(argv)
    try:
        if args.verify:
            out = args.out or prepared_dir(args.src.parent, args.size)
            damaged = verify_prepared(out, args.size, workers=args.workers, verbose=not args.quiet)
            return 1 if damaged else 0
        report = prepare_celeba(
            args.src,
            args.out,
            args.size,
            workers=args.workers,
            quality=args.quality,
            verbose=not args.quiet,
        )
    except (FileNotFoundError, NotADirectoryError, TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if report.converted + report.already_done == 0:
        name, reason = report.failed[0]
        print(
            f"error: none of the {report.found:,} images in {args.src} could be prepared "
            f"(the first, {name}: {reason}).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
