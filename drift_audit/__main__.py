from drift_audit.cli import main

main()
