"""brain-agent: LLM-written WorldQuant BRAIN alphas under a hard token budget."""

__version__ = "0.1.0"
