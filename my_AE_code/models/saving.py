"""The saved form of a model: a folder with ``params.json`` and a ``*.weights.h5`` file.

``params.json`` holds the class name and the constructor parameters, so the
object can be rebuilt; the weights file holds what Keras saves (with the Adam
state when the model is compiled). No pickle: both files are plain formats.

A saved folder is all or nothing. The weights are written first, under a
name made from their SHA-256 checksum (``model-<16 hex digits>.weights.h5``);
``params.json``, written last and renamed into place in one step, names that
file and records its checksum. Until that rename the folder still holds the
previous save, whole; after it, the new one. Loading checks the checksum, so
flipped bytes in a weights file are an error naming the file, not NaN
outputs. Folders saved before checksums (``model.weights.h5`` and no
checksum in ``params.json``) still load, unchecked.

Several processes may use one folder (two notebooks, the workers of a
multi-worker run): a save holds an exclusive lock on the folder
(``flock``, where the system has it) and a load a shared one, so a load never
sees a save half done and one save never removes what another is writing.
Temporary files are created exclusively in a private sub-folder, so a link
planted in the folder cannot redirect a write. A save removes only what saves
wrote: weights files whose name is their own checksum, and the temporary
names below; a user's other files stay.

A folder is not trusted on loading: the weights file must be a regular file
in the folder with a name a save gives, and the number of weights its HDF5
headers declare must be what ``params.json``'s architecture needs, checked
before any model is built.
"""

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import h5py

try:
    import fcntl
except ImportError:  # Windows: no flock; saves then rely on the rename alone
    fcntl = None

PARAMS_FILE = "params.json"
#: The weights file of folders saved before checksums were recorded.
LEGACY_WEIGHTS_FILE = "model.weights.h5"
#: The weights files a save writes, now and before checksums.
WEIGHTS_NAME = re.compile(r"model(-[0-9a-f]{16})?\.weights\.h5")
#: Temporary names (``tempfile``'s 8 random characters): a file for a JSON file being
#: written, a private folder for weights being written. An interrupted save leaves them.
TEMP_PREFIX = ".tmp-"
TEMP_NAME = re.compile(r"\.tmp-[a-z0-9_]{8}-(weights|[a-z_]+\.json)")
#: How long a save or load waits for another process's save into the same folder.
LOCK_TIMEOUT_S = 300


class DamagedSaveError(ValueError):
    """A saved folder or checkpoint whose files are damaged or do not belong together."""


# --- the folder lock ----------------------------------------------------------------------

@contextmanager
def folder_lock(folder, exclusive):
    """Hold ``folder``'s lock: exclusive while saving into it, shared while loading from it.

    Without ``fcntl`` (Windows), or on a file system that refuses locks (some
    network mounts), this does nothing. A process that holds the
    lock longer than `LOCK_TIMEOUT_S` makes the others fail with a message,
    rather than hang.
    """
    if fcntl is None:
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        while True:
            try:
                fcntl.flock(descriptor, mode)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Another process has been saving into {folder} for "
                                       f"over {LOCK_TIMEOUT_S} s; try again when it is done.")
                time.sleep(0.05)
            except OSError:  # a file system without locks (some network mounts): rename only
                break
        yield
    finally:
        os.close(descriptor)  # releases the lock


# --- writing ------------------------------------------------------------------------------

def write_model_folder(obj, folder):
    """Write ``obj``'s weights and parameters into ``folder``; returns the folder."""
    folder = make_folder(folder)
    with folder_lock(folder, exclusive=True):
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, suffix="-weights",
                                         dir=folder) as private:
            temporary = Path(private) / LEGACY_WEIGHTS_FILE
            obj.model.save_weights(temporary)
            checksum = file_sha256(temporary)
            weights = folder / f"model-{checksum[:16]}.weights.h5"
            os.replace(temporary, weights)  # replaces a link of that name, never follows it
        previous = _previous_weights(folder)
        write_json(folder / PARAMS_FILE, {"class": type(obj).__name__, "params": obj.params,
                                          "weights_file": weights.name,
                                          "weights_sha256": checksum})
        removed = remove_what_saves_left(folder, keep=weights.name, previous=previous)
    if removed:
        print(f"Removed from {folder}: {', '.join(removed)} (written by earlier saves).")
    return folder


def make_folder(folder):
    """``folder``, created if needed; a clear error if it is a file or cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"{folder} cannot be a folder: it, or a folder above it, is a "
                                 f"file. Choose another path (or move the file away).") from None
    except OSError as error:
        raise OSError(error.errno, f"Cannot create the folder {folder} ({error.strerror}): "
                                   f"choose a path you can write to.") from None
    try:  # a real write: permission bits say nothing to root, nor of a read-only disk
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise PermissionError(error.errno or errno.EACCES,
                              f"Cannot write into {folder} ({error.strerror}): choose a folder "
                              f"you can write to.") from None
    return folder


def write_json(path, data):
    """Write ``data`` as JSON under a new temporary name, then rename: never a half-written file.

    The temporary file is created exclusively (``mkstemp``), so nothing
    planted at a predictable name can redirect the write.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{path.name}",
                                             dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps(data, indent=2))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _previous_weights(folder):
    """The weights file the folder's current ``params.json`` names, if it is a save's."""
    try:
        name = read_params(folder).get("weights_file", LEGACY_WEIGHTS_FILE)
    except (FileNotFoundError, DamagedSaveError):
        return None
    return name if isinstance(name, str) and WEIGHTS_NAME.fullmatch(name) else None


def remove_what_saves_left(folder, keep, previous=None):
    """Delete what earlier or interrupted saves wrote into ``folder``; returns the names.

    Only files a save can recognise as its own go: weights named after their
    own checksum, the weights file ``previous`` (which the replaced
    ``params.json`` named), and the temporary files and folders of
    interrupted saves. Links, other files and other folders stay.
    """
    removed = remove_temporaries(folder)
    for path in sorted(Path(folder).iterdir()):
        name = path.name
        if (name == keep or not WEIGHTS_NAME.fullmatch(name)
                or not stat.S_ISREG(path.lstat().st_mode)):
            continue
        if name == previous or (name != LEGACY_WEIGHTS_FILE and _named_after_checksum(path)):
            path.unlink()
            removed.append(name)
    return removed


def remove_temporaries(folder):
    """Delete the temporary files and folders of interrupted saves; returns their names."""
    removed = []
    for path in sorted(Path(folder).iterdir()):
        if not TEMP_NAME.fullmatch(path.name):
            continue
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)
        elif stat.S_ISREG(mode):
            path.unlink()
        else:
            continue
        removed.append(path.name)
    return removed


def _named_after_checksum(path):
    return file_sha256(path).startswith(path.name[len("model-"):len("model-") + 16])


# --- reading ------------------------------------------------------------------------------

def read_json(path):
    """A JSON file written by `write_json`; a damaged one is an error that names it."""
    try:
        text = Path(path).read_text()
        return json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # ValueError: malformed JSON, or an integer of more digits than Python converts.
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise DamagedSaveError(f"{path} is damaged ({reason}).") from None


def read_params(folder):
    """The ``{"class": ..., "params": {...}, ...}`` saved in ``folder``."""
    path = Path(folder) / PARAMS_FILE
    if not path.exists():
        raise FileNotFoundError(f"No {PARAMS_FILE} in {folder}: is this a folder written by "
                                f".save(folder)?")
    saved = read_json(path)
    if not isinstance(saved, dict) or not {"class", "params"} <= saved.keys():
        raise DamagedSaveError(f"{path} is damaged: it lacks the class or the parameters.")
    if not isinstance(saved["class"], str) or not isinstance(saved["params"], dict):
        raise DamagedSaveError(f"{path} is damaged: the class must be a name and the "
                               f"parameters a mapping of names to values.")
    return saved


def checked_weights_file(folder, saved):
    """The weights file that ``saved`` (from ``folder``) names, checked against its checksum.

    It must be a regular file in ``folder`` (not a link, a FIFO or a device)
    whose name a save gives; anything else is refused before it is opened.
    """
    folder = Path(folder)
    name = saved.get("weights_file", LEGACY_WEIGHTS_FILE)
    if not isinstance(name, str) or not WEIGHTS_NAME.fullmatch(name):
        raise DamagedSaveError(f"{folder / PARAMS_FILE} names the weights file {name!r}, but a "
                               f"save writes model-<16 hex digits>.weights.h5 into the same "
                               f"folder: refusing to read it. Save the model again.")
    path = folder / name
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"No weights at {path}, which {PARAMS_FILE} names: the folder "
                                f"is incomplete. Save the model into it again.") from None
    if not stat.S_ISREG(mode):
        raise DamagedSaveError(f"{path} is not a regular file (a link, a folder, a FIFO or a "
                               f"device): refusing to read it. Save the model again.")
    expected = saved.get("weights_sha256")
    if expected is not None and file_sha256(path) != expected:
        raise DamagedSaveError(f"{path} is damaged: its SHA-256 checksum differs from the one "
                               f"recorded in {PARAMS_FILE} when it was saved. Save the model "
                               f"again, or load an earlier copy (e.g. a checkpoint).")
    return path


def file_sha256(path):
    """The SHA-256 checksum of a regular file, as hex digits (a link is not followed)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise DamagedSaveError(f"{path} is not a regular file: refusing to read it.")
        return hashlib.file_digest(file, "sha256").hexdigest()


def stored_weight_count(path):
    """The number of model weights the HDF5 file ``path`` declares (optimizer state aside).

    Read from the datasets' headers alone, before anything is built or read.
    Links (soft or to other files), external storage and virtual datasets are
    refused, as Keras refuses them, and so is a file that declares more bytes
    than it holds (Keras writes its weights uncompressed).
    """
    count = declared_bytes = 0
    try:
        with h5py.File(path, "r") as file:
            links = []  # h5py's visitor must not raise: look at the links afterwards
            file.visititems_links(lambda name, link: links.append((name, link)))
            for name, link in links:
                if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                    raise DamagedSaveError(f"{path} holds an HDF5 {type(link).__name__} ({name}): "
                                           f"a weights file never does; refusing to read it.")
            for name, _ in links:
                item = file[name]
                if not isinstance(item, h5py.Dataset):
                    continue
                if item.external or item.is_virtual:
                    raise DamagedSaveError(f"{path} keeps the data of {name} in other files: "
                                           f"a weights file never does; refusing to read it.")
                declared_bytes += item.size * item.dtype.itemsize
                if name.split("/")[0] != "optimizer":
                    count += item.size
    except OSError as error:  # h5py's word for a file that is not HDF5, or is damaged
        raise DamagedSaveError(f"{path} is damaged and cannot be read ({error}). Save the "
                               f"model again, or load an earlier copy.") from None
    if declared_bytes > os.path.getsize(path):
        raise DamagedSaveError(f"{path} declares {declared_bytes:,} bytes of weights but is "
                               f"only {os.path.getsize(path):,} bytes long: refusing to load it.")
    return count


def param_differences(saved, live, ignore=()):
    """``"name=<saved> in the file, <live> here"`` for each parameter that differs, by name."""
    names = sorted((set(saved) | set(live)) - set(ignore))
    return [f"{name}={saved.get(name)!r} in the file, {live.get(name)!r} here"
            for name in names if saved.get(name) != live.get(name)]
