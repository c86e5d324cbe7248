"""Turns pocalert.conf.example into the installed /etc/pocalert/pocalert.conf:
the example's paths are relative to itself (var/, policies/), the
installed one names the state directory and the shared data directory.

Usage: localize-conf.py EXAMPLE OUTPUT STATEDIR DATADIR
"""
import sys

src, out, statedir, datadir = sys.argv[1:5]
with open(src, encoding="utf-8") as f:
    text = f.read()
text = text.replace('"var/', '"%s/' % statedir)
text = text.replace('"policies/', '"%s/policies/' % datadir)
text = text.replace("# pocalert.conf: a complete example. Paths are relative to this file.\n"
                    "# Copy it to pocalert.conf (or point --config / POCALERT_CONFIG at it).\n",
                    "# /etc/pocalert/pocalert.conf: see pocalert.conf(5). Check it with\n"
                    "# `pocalert config check`, apply it with `systemctl reload pocalert`.\n")
with open(out, "w", encoding="utf-8") as f:
    f.write(text)
