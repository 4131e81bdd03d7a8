"""The LLM layer: provider protocol, normalised usage, providers, offline tokenizer."""

from brain_agent.llm.base import LLMProvider, LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.mock import MockProvider
from brain_agent.llm.registry import PROVIDER_NAMES, make_provider
from brain_agent.llm.tokenizer import count_tokens, encoding_for_model, get_encoding

__all__ = [
    "PROVIDER_NAMES",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "MockProvider",
    "Usage",
    "count_tokens",
    "encoding_for_model",
    "get_encoding",
    "make_provider",
]
