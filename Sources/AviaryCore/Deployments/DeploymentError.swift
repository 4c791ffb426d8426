/// An error of Aviary's own deployment API (`/v1/…`): a stable code, a message for people, and the
/// kind of failure that decides the HTTP status.
public struct DeploymentError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalidRequest, notFound, conflict, tooLarge, forbidden
    }

    public let code: String
    public let kind: Kind
    public let message: String
    /// The deployment already moving the alias, for `DeploymentAlreadyActive`.
    public let activeDeployment: DeploymentID?

    public init(_ code: String, _ kind: Kind, _ message: String, activeDeployment: DeploymentID? = nil) {
        self.code = code
        self.kind = kind
        self.message = message
        self.activeDeployment = activeDeployment
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidRequest(_ message: String) -> Self { Self("InvalidRequest", .invalidRequest, message) }
    public static func tooLarge(limit: Int) -> Self {
        Self("RequestTooLarge", .tooLarge, "the request body is larger than \(limit / 1024) KB")
    }
    public static func invalidStrategy(_ message: String) -> Self { Self("InvalidStrategy", .invalidRequest, message) }
    public static func unknownStrategy(_ text: String) -> Self {
        Self(
            "InvalidStrategy", .invalidRequest,
            "unknown strategy \(text): use a CodeDeploy preset (Canary10Percent5Minutes, Linear10PercentEvery1Minute, "
                + "AllAtOnce, …) or canary:10%:5m, linear:10%:1m, steps:1%@2m,10%@5m, all-at-once")
    }
    public static func invalidHealthPolicy(_ message: String) -> Self { Self("InvalidHealthPolicy", .invalidRequest, message) }
    public static func notFound(_ message: String) -> Self { Self("ResourceNotFound", .notFound, message) }
    public static func deploymentNotFound(_ id: String) -> Self {
        Self("DeploymentNotFound", .notFound, "no deployment \(id)")
    }
    public static func alreadyActive(_ active: DeploymentID, function: FunctionName, alias: AliasName) -> Self {
        Self(
            "DeploymentAlreadyActive", .conflict,
            "alias \(function):\(alias) is already being deployed by \(active); finish, promote or roll it back first",
            activeDeployment: active)
    }
    public static func aliasNotReady(_ message: String) -> Self { Self("AliasNotReady", .conflict, message) }
    public static func finished(_ id: DeploymentID, _ status: DeploymentStatus) -> Self {
        Self("DeploymentFinished", .conflict, "deployment \(id) has already finished (\(status.rawValue))")
    }
    public static func notAllowed(_ message: String) -> Self { Self("ActionNotAllowed", .conflict, message) }
    public static func forbidden(_ message: String) -> Self { Self("NotAnApprover", .forbidden, message) }
}
