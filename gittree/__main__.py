from gittree.cli import main

main()
