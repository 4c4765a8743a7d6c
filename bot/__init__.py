"""The Rasa bot project: config, domain, custom actions, NLU components and approved content."""
