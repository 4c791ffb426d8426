/// An error of the Lambda API, as AWS names it on the wire.
///
/// The code is data (`x-amzn-ErrorType`); the HTTP status and the body shape are chosen in one place in
/// `AviaryServer`. Messages follow AWS's texts, because clients and scripts match on them.
public struct LambdaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The AWS error type, e.g. `ResourceNotFoundException`.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidParameterValue = Code(rawValue: "InvalidParameterValueException")
        public static let validation = Code(rawValue: "ValidationException")
        public static let invalidRequestContent = Code(rawValue: "InvalidRequestContentException")
        public static let resourceNotFound = Code(rawValue: "ResourceNotFoundException")
        public static let resourceConflict = Code(rawValue: "ResourceConflictException")
        public static let preconditionFailed = Code(rawValue: "PreconditionFailedException")
        public static let requestEntityTooLarge = Code(rawValue: "RequestEntityTooLargeException")
        public static let unsupportedMediaType = Code(rawValue: "UnsupportedMediaTypeException")
        public static let tooManyRequests = Code(rawValue: "TooManyRequestsException")
        public static let unknownOperation = Code(rawValue: "UnknownOperationException")
        public static let service = Code(rawValue: "ServiceException")
    }

    public var code: Code
    public var message: String
    /// `Reason` of a `TooManyRequestsException` (e.g. `ReservedFunctionConcurrentInvocationLimitExceeded`).
    public var reason: String?

    public init(_ code: Code, _ message: String, reason: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
    }

    public var description: String { "\(code): \(message)" }
}

extension LambdaError {
    public static func invalidParameterValue(_ message: String) -> LambdaError {
        LambdaError(.invalidParameterValue, message)
    }

    public static func resourceNotFound(_ message: String) -> LambdaError {
        LambdaError(.resourceNotFound, message)
    }

    /// A throttle: 429 `Rate Exceeded.` with the reason AWS gives.
    public static func throttled(reason: String) -> LambdaError {
        LambdaError(.tooManyRequests, "Rate Exceeded.", reason: reason)
    }

    public static func resourceConflict(_ message: String) -> LambdaError {
        LambdaError(.resourceConflict, message)
    }

    /// `Function not found: <arn>`, the 404 every lookup of a function, version or alias gives.
    public static func functionNotFound(_ arn: String) -> LambdaError {
        LambdaError(.resourceNotFound, "Function not found: \(arn)")
    }

    /// A `RevisionId` precondition that does not hold.
    public static func revisionMismatch() -> LambdaError {
        LambdaError(
            .preconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. "
                + "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
    }

    /// AWS's generic constraint failure: `1 validation error detected: Value '…' at '…' failed to satisfy constraint: …`.
    public static func validation(value: String, field: String, constraint: String) -> LambdaError {
        LambdaError(
            .validation,
            "1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(constraint)")
    }

    public static func patternMismatch(value: String, field: String, pattern: String) -> LambdaError {
        validation(value: value, field: field, constraint: "Member must satisfy regular expression pattern: \(pattern)")
    }

    public static func tooLong(value: String, field: String, max: Int) -> LambdaError {
        validation(value: value, field: field, constraint: "Member must have length less than or equal to \(max)")
    }

    public static func tooLarge(value: Int, field: String, max: Int) -> LambdaError {
        validation(value: String(value), field: field, constraint: "Member must have value less than or equal to \(max)")
    }

    public static func tooSmall(value: Int, field: String, min: Int) -> LambdaError {
        validation(value: String(value), field: field, constraint: "Member must have value greater than or equal to \(min)")
    }
}
