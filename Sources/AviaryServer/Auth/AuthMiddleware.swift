import AviaryCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// Requires credentials on every route but the few meant to be public, and records who called on the
/// request context (`principal`), for the audit trail.
///
/// - The Lambda REST API and CodeDeploy's `POST /` take AWS SigV4 only, as AWS does, so the `aws` CLI and
///   boto3 work with the configured keys; refusals are AWS's 403 errors.
/// - Aviary's own `/v1` API and `/metrics` take a bearer token or a SigV4 signature for any service;
///   refusals are 401 `Unauthorized` with `WWW-Authenticate: Bearer`.
/// - `GET /health`, function URLs (`/url/…`) and approval links (`/approvals/…`) stay open: their callers
///   are load balancers, the public, and people who hold a signed link rather than a key.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LambdaRequestContext

    let verifier: SigV4Verifier
    /// The region a Lambda or CodeDeploy signature must be scoped to (the one in Aviary's ARNs).
    let region: String

    init(keys: AuthKeys, region: String) {
        self.verifier = SigV4Verifier(keys: keys)
        self.region = region
    }

    /// Which credentials a request needs, and how its refusal looks.
    enum Surface: Equatable {
        case open, lambda, codeDeploy, aviary

        init(method: HTTPRequest.Method, path: String, hasTarget: Bool) {
            if (method == .get && path == "/health") || path.hasPrefix("/url/") || path.hasPrefix("/approvals/") {
                self = .open
            } else if path == "/metrics" || path == "/v1" || path.hasPrefix("/v1/") {
                self = .aviary
            } else if method == .post && path == "/" && hasTarget {
                self = .codeDeploy
            } else {
                self = .lambda
            }
        }
    }

    /// Slack over the largest body a route reads, so that the route, not this check, answers a body that is
    /// slightly too large, with its own message.
    static let bodySlack = 64 * 1024

    /// The most body to read for hashing: code uploads take a 50 MB zip as base64, everything else at most
    /// Lambda's 6 MB. Beyond it the request is refused as too large, as the route would.
    static func bodyLimit(method: HTTPRequest.Method, path: String) -> Int {
        let uploadsCode =
            (method == .post && path == "/2015-03-31/functions")
            || (method == .put && path.hasPrefix("/2015-03-31/functions/") && path.hasSuffix("/code"))
        return uploadsCode ? LambdaAPI.maxCodeRequestBytes : LambdaAPI.maxRequestBytes + bodySlack
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        var surface = Surface(method: request.method, path: path, hasTarget: request.headers[.amzTarget] != nil)
        // A presigned code link (GetFunction's `Code.Location`) carries its own signature, checked by the route.
        if request.method == .get, path.hasPrefix("/v1/code/"), request.uri.queryParameters.get("Signature") != nil {
            surface = .open
        }
        guard surface != .open else { return try await next(request, context) }
        var request = request
        var context = context
        do {
            context.principal = try await authenticate(&request, surface: surface)
        } catch let failure as AuthFailure {
            context.logger.debug(
                "refused: \(failure.code)", metadata: ["path": "\(path)", "request_id": "\(context.requestID)"])
            return failure.response(for: surface)
        }
        return try await next(request, context)
    }

    /// The user the request's credentials belong to; the body, if read, is put back for the route.
    func authenticate(_ request: inout Request, surface: Surface) async throws -> String {
        if surface == .aviary {
            guard let authorization = request.headers[.authorization] else { throw AuthFailure.credentialsRequired }
            if authorization.lowercased().hasPrefix("bearer ") {
                let token = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
                guard let user = verifier.keys.user(forToken: token) else { throw AuthFailure.unknownToken }
                return user
            }
            guard authorization.hasPrefix(SigV4Verifier.algorithm) else { throw AuthFailure.credentialsRequired }
        }
        let audience: SigV4Verifier.Audience =
            switch surface {
            case .lambda: .init(region: region, service: "lambda")
            case .codeDeploy: .init(region: region, service: "codedeploy")
            case .aviary, .open: .init(region: nil, service: nil)
            }
        let pending = try verifier.check(SignedRequest(request), for: audience, now: Date())
        let limit = Self.bodyLimit(method: request.method, path: request.uri.path)
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw surface == .aviary ? DeploymentError.tooLarge(limit: limit) : HTTPError(.contentTooLarge)
        }
        return try pending.verify(body: body.readableBytesView)
    }
}

extension AuthMiddleware {
    /// The Lambda API's signature check for a request read outside the router (Invoke on the event loop,
    /// `AWS_IAM` function URLs). A `nil` body (dropped as too large, refused by the caller) is not hashed.
    func checkLambdaSignature(_ head: HTTPRequest, body: ByteBuffer?) throws(AuthFailure) {
        let pending = try verifier.check(SignedRequest(head), for: .init(region: region, service: "lambda"), now: Date())
        if let body { _ = try pending.verify(body: body.readableBytesView) }
    }
}

extension SignedRequest {
    /// The request as it arrived; HTTP/1's `Host` travels as the authority, so it is added back as `host`.
    init(_ request: Request) {
        self.init(request.head)
    }

    init(_ head: HTTPRequest) {
        var headers = head.headerFields.map { (name: $0.name.canonicalName, value: $0.value) }
        if !headers.contains(where: { $0.name == "host" }), let authority = head.authority {
            headers.append((name: "host", value: authority))
        }
        let target = head.path ?? "/"
        let query = target.firstIndex(of: "?")
        self.init(
            method: head.method.rawValue, path: String(target[..<(query ?? target.endIndex)]),
            query: query.map { String(target[target.index(after: $0)...]) } ?? "", headers: [])
        // Set directly: canonical names are lower-case already.
        self.headers = headers
    }
}
