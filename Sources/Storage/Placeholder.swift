/// Placeholder until the storage engine lands.
public enum StoragePlaceholder {}
