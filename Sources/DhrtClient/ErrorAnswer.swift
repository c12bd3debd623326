/// A documented error answer: every one carries `{"error", "detail"}` (`Components.Schemas._Error`).
public protocol ErrorAnswer: Sendable {
    /// The answer's JSON body.
    var error: Components.Schemas._Error { get throws }
}

extension Components.Responses.KeyNotFound: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadRequest: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadCollection: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadObjectRequest: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadListing: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadBatch: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadChangeRequest: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Unauthorized: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Forbidden: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.NotFound: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Timeout: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.BadChange: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.PreconditionFailed: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.TooLarge: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.ValueTooLarge: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Internal: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Unavailable: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.NotReady: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.NoMajority: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.Indeterminate: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}

extension Components.Responses.InsufficientStorage: ErrorAnswer {
    /// The JSON body.
    public var error: Components.Schemas._Error { get throws { try body.json } }
}
