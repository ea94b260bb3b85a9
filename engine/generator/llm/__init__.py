"""The LLM planner: a model asked for what the rules leave open, every answer proven in the
sandbox before it ships (:mod:`engine.generator.llm.planner`). Nothing here talks to a network:
the chat model is handed in (:mod:`engine.generator.llm.chat`)."""
