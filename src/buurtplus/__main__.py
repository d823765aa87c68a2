from buurtplus.cli import main

main()
