from sdtui.cli import main

raise SystemExit(main())
