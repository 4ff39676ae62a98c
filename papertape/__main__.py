from papertape.cli.entry import main

main()
