import HTTPTypes

extension HTTPField.Name {
    static let dhrtR = Self("X-Dhrt-R")!
    static let dhrtW = Self("X-Dhrt-W")!
    static let dhrtConsistency = Self("X-Dhrt-Consistency")!
    static let dhrtContext = Self("X-Dhrt-Context")!
    static let dhrtAcks = Self("X-Dhrt-Acks")!
    static let dhrtReplicas = Self("X-Dhrt-Replicas")!
    static let dhrtRepaired = Self("X-Dhrt-Repaired")!
    static let dhrtNode = Self("X-Dhrt-Node")!
    static let dhrtPW = Self("X-Dhrt-PW")!
    static let dhrtHinted = Self("X-Dhrt-Hinted")!
}

extension HTTPFields {
    /// The read quorum asked for: `X-Dhrt-R`, else `X-Dhrt-Consistency`, else nil (the default).
    var readQuorum: (header: String, value: String)? { quorum(.dhrtR) }

    /// The write quorum asked for: `X-Dhrt-W`, else `X-Dhrt-Consistency`, else nil (the default).
    var writeQuorum: (header: String, value: String)? { quorum(.dhrtW) }

    /// `X-Dhrt-Consistency` when `specific` (`X-Dhrt-R` or `X-Dhrt-W`) overrides it, to be validated anyway.
    func overriddenConsistency(by specific: HTTPField.Name) -> String? {
        self[specific] == nil ? nil : self[.dhrtConsistency]
    }

    private func quorum(_ specific: HTTPField.Name) -> (header: String, value: String)? {
        if let value = self[specific] { return (specific.rawName, value) }
        if let value = self[.dhrtConsistency] { return (HTTPField.Name.dhrtConsistency.rawName, value) }
        return nil
    }
}
