from tools.altsim.gen import main

raise SystemExit(main())
