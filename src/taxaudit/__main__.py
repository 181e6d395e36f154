from taxaudit.cli import main

main()
