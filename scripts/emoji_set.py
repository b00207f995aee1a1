"""A happy/sad evaluation set from real vendor emoji (Apple, Google, Twitter, Facebook).

Why: every other check set here is drawn by code; these images were drawn by people, for
other purposes, in four house styles. They are a report-only check of the demo model on
images from another source, never a training set and never a reason to change a default.

The images are not in this repository and nothing here downloads them: install the four
MIT-licensed `emoji-datasource-*` npm packages (iamcal/emoji-data) yourself, then point this
script at them. It copies the 64 px PNGs of 18 smiling and 16 frowning faces per vendor (136
images; transparent backgrounds, which happysad composites onto white) into ``OUT/happy`` and
``OUT/sad``. Faces whose mouth is hidden, crooked or not curved (kissing, zipper, neutral,
confused, angry, cat faces) are left out: their label would be a guess.

    npm install --prefix /tmp/emoji emoji-datasource-apple emoji-datasource-google \\
        emoji-datasource-twitter emoji-datasource-facebook
    .venv/bin/python scripts/emoji_set.py /tmp/emoji/node_modules outputs/emoji
    .venv/bin/happysad-eval outputs/<run dir> outputs/emoji
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

VENDORS = ("apple", "google", "twitter", "facebook")
# Unified code points (emoji-data's file names). Happy: the mouth's corners turn up.
HAPPY = [
    "1f600",
    "1f603",
    "1f604",
    "1f601",
    "1f606",
    "1f605",
    "1f602",
    "1f642",
    "1f60a",
    "1f607",
    "1f970",
    "1f60d",
    "1f929",
    "263a-fe0f",
    "1f60b",
    "1f60e",
    "1f609",
    "1f60c",
]
# Sad: the corners turn down (slightly frowning, disappointed, crying, anguished, pleading...).
SAD = [
    "1f641",
    "2639-fe0f",
    "1f61e",
    "1f614",
    "1f61f",
    "1f62b",
    "1f629",
    "1f622",
    "1f62d",
    "1f625",
    "1f613",
    "1f626",
    "1f627",
    "1f630",
    "1f97a",
    "1f612",
]


def build(node_modules: Path, out: Path) -> dict[str, int]:
    """Copy the listed emoji into ``out/happy`` and ``out/sad``; return counts per class.

    Refuses a non-empty ``out`` (it may hold the user's files) and a vendor package that is
    missing an image (a partial set would change what the numbers mean).
    """
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new folder")
    plan: list[tuple[Path, Path]] = []
    for vendor in VENDORS:
        src = node_modules / f"emoji-datasource-{vendor}" / "img" / vendor / "64"
        if not src.is_dir():
            raise FileNotFoundError(f"{src} not found: npm install emoji-datasource-{vendor}")
        for cls, codes in (("happy", HAPPY), ("sad", SAD)):
            for code in codes:
                image = src / f"{code}.png"
                if not image.is_file():
                    raise FileNotFoundError(f"{image} not found (another emoji-data version?)")
                plan.append((image, out / cls / f"{vendor}_{code}.png"))
    counts = {"happy": 0, "sad": 0}
    for image, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)
        counts[target.parent.name] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("node_modules", type=Path, help="folder holding emoji-datasource-* packages")
    p.add_argument("out", type=Path, help="new folder for happy/ and sad/")
    args = p.parse_args(argv)
    try:
        counts = build(args.node_modules, args.out)
    except (FileExistsError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.out}: {counts['happy']} happy, {counts['sad']} sad ({', '.join(VENDORS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
