from spasmwatch.cli import main

raise SystemExit(main())
