public import Hummingbird

/// The request context of every Aviary route.
public struct LambdaRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `x-amzn-RequestId` of this request, set by `AWSErrorMiddleware` and echoed on every response.
    public var requestID: String
    /// The client's IP address (API Gateway's `sourceIp` for function URLs).
    public let sourceIP: String?
    /// The user whose credentials `AuthMiddleware` accepted; `nil` when the server runs without keys or the
    /// route is open (health, function URLs, approval links).
    public var principal: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.sourceIP = source.channel.remoteAddress?.ipAddress
    }
}
