from brain_agent.cli.app import main

main()
