"""sync_activity [NAME...] [--since ISO_DATE] [--until ISO_DATE]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from activity.management.options import USAGE_ERROR, check_window, parse_cli_time
from activity.models import Source, SyncRun
from activity.sync.engine import sync_source
from activity.sync.records import Page

BAR_WIDTH = 24


class Command(BaseCommand):
    help = (
        "Fetch new events from the named sources (default: every enabled source). "
        "--since backfills from a date without resetting anything."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--since", help="Fetch from this date/time (ISO 8601, UTC).")
        parser.add_argument("--until", help="Fetch up to this date/time (ISO 8601, UTC).")

    def handle(self, *args, names, since, until, **options) -> None:
        since_at, until_at = parse_cli_time(since, "--since"), parse_cli_time(until, "--until")
        check_window(since_at, until_at)
        sources = self._sources(names)
        if not sources:
            self.stdout.write("No enabled sources. Add one with: python manage.py add_source")
            return
        interactive = self.stdout.isatty()
        failed = []
        for source in sources:
            started = time.monotonic()
            on_page = self._progress_printer(source) if interactive else None
            run = sync_source(source, since=since_at, until=until_at, on_page=on_page)
            if interactive:
                self.stdout.write("\r\033[K", ending="")
            self.stdout.write(_summary(run, time.monotonic() - started))
            if run.status != SyncRun.Status.SUCCEEDED:
                streams = ", ".join(run.failed_streams)
                failed.append(f"{source.name} (stream {streams})" if streams else source.name)
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(sources)} sources did not sync: {', '.join(failed)}",
                returncode=1,
            )

    def _sources(self, names: list[str]) -> list[Source]:
        if not names:
            return list(Source.objects.filter(enabled=True))
        found = {source.name: source for source in Source.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in found]
        if unknown:
            raise CommandError(
                f"no source named {', '.join(map(repr, unknown))} "
                "(list them in the admin, or add one with add_source)",
                returncode=USAGE_ERROR,
            )
        return [found[name] for name in dict.fromkeys(names)]

    def _progress_printer(self, source: Source):
        def show(run: SyncRun, page: Page) -> None:
            if page.progress is not None:
                done = int(page.progress * BAR_WIDTH)
                bar = f"[{'#' * done}{'.' * (BAR_WIDTH - done)}] {page.progress:4.0%} "
            else:
                bar = ""
            self.stdout.write(
                f"\r\033[K{source.name}: {bar}{run.pages} pages, "
                f"{run.events_seen:,} events ({run.events_new:,} new)",
                ending="",
            )
            self.stdout.flush()

        return show


def _summary(run: SyncRun, seconds: float) -> str:
    counts = (
        f"{run.pages} pages, {run.events_seen:,} events "
        f"({run.events_new:,} new, {run.events_known:,} already known)"
    )
    if run.records_skipped:
        counts += f", {run.records_skipped:,} records skipped"
    line = f"{run.source.name}: {run.status} in {seconds:.1f}s, {counts}"
    return f"{line}: {run.error}" if run.error else line
