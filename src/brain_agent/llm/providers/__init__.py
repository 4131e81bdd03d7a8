"""Provider implementations. Network providers are imported lazily by ``brain_agent.llm.registry``."""
