/// Placeholder until the coordinator lands.
public enum CoordinatorPlaceholder {}
