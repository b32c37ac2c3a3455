"""``python -m neurosim`` runs the command-line interface."""

from neurosim.cli import main

raise SystemExit(main())
