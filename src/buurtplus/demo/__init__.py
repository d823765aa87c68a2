"""Demo data: accounts, teams, partners with routing rules, signals, rounds and AEDs."""

from buurtplus.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "seed_demo"]
