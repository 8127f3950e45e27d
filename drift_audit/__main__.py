from drift_audit.entry import main

main()
