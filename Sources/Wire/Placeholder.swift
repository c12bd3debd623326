/// Placeholder until the inter-node protocol lands.
public enum WirePlaceholder {}
