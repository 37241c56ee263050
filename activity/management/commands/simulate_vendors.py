"""simulate_vendors [--port 8765] [--events N] [--seed S] [--scenarios]: serve the simulator."""

from __future__ import annotations

import contextlib
import json

from django.core.management.base import BaseCommand

from activity.simulator import VENDORS, VendorSimulator
from activity.simulator.scenarios import plant_history


class Command(BaseCommand):
    help = "Serve the Lightdash, Datafold, Domo and Velt APIs on 127.0.0.1 from fake data."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--events", type=int, default=1000, help="Events per vendor.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--domo-token-ttl", type=float, default=3599)
        parser.add_argument(
            "--hostile",
            action="store_true",
            help="Fill one record in three with hostile text (HTML, controls, formulas, nulls).",
        )
        parser.add_argument(
            "--scenarios",
            action="store_true",
            help="Plant known suspicious patterns in the history (see the README's Detections).",
        )

    def handle(
        self, *args, port, events, seed, domo_token_ttl, hostile, scenarios, **options
    ) -> None:
        simulator = VendorSimulator(
            events_per_vendor=events,
            seed=seed,
            port=port,
            domo_token_ttl=domo_token_ttl,
            hostile=hostile,
        )
        self.stdout.write(f"Serving {events:,} events per vendor at {simulator.base_url}")
        for vendor in VENDORS:
            credentials = json.dumps(simulator.credentials(vendor))
            self.stdout.write(f"  {vendor}: {simulator.url(vendor)}  {credentials}")
        if scenarios:
            for planted in plant_history(simulator):
                self.stdout.write(
                    f"  planted for {planted.rule}: {planted.what} "
                    f"({len(planted.keys)} {planted.vendor} records)"
                )
        self.stdout.write(
            "Control: /_sim/health, /_sim/credentials, /_sim/truth/<vendor>, "
            "POST /_sim/events, POST /_sim/faults. Ctrl-C stops."
        )
        with contextlib.suppress(KeyboardInterrupt):
            simulator.serve_forever()
