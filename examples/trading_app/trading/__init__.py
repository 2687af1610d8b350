"""The example trading app's modules: one per flow of .autodev/flows.yaml."""
