@testable import AviaryServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

/// alice signs with a key, ci-bot holds a token.
func testKeys() throws -> AuthKeys {
    try AuthKeys(
        keys: [.init(accessKeyId: "AKIDALICE", secretAccessKey: "alice-secret", user: "alice")],
        tokens: [.init(token: "ci-token", user: "ci-bot")])
}

/// Signs a request as botocore would, using the verifier's canonical form (pinned to AWS's and botocore's by
/// `SigV4VerifierTests`). The router test client sends `Host: localhost`.
func signedHeaders(
    _ method: HTTPRequest.Method, _ uri: String, body: String = "", accessKeyID: String = "AKIDALICE",
    secret: String = "alice-secret", service: String = "lambda", region: String = "us-east-1", at date: Date = Date(),
    extra: HTTPFields = [:]
) throws -> HTTPFields {
    let timestamp = SigV4Verifier.format(date)
    let parts = uri.split(separator: "?", maxSplits: 1)
    var fields = extra
    fields[HTTPField.Name("X-Amz-Date")!] = timestamp
    let headers = [(name: "host", value: "localhost")] + fields.map { (name: $0.name.canonicalName, value: $0.value) }
    let names = headers.map(\.name).sorted()
    let scope = "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    // The signature field is filled in below; `check` needs a well-formed header to build the canonical request.
    let placeholder = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(String(repeating: "0", count: 64))"
    let request = SignedRequest(
        method: method.rawValue, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
        headers: headers + [(name: "authorization", value: placeholder)])
    let keys = try AuthKeys(keys: [.init(accessKeyId: accessKeyID, secretAccessKey: secret, user: "signer")], tokens: [])
    let pending = try SigV4Verifier(keys: keys).check(request, for: .init(region: nil, service: nil), now: date)
    let signature = SignedRequest.hex(pending.expectedSignature(payloadHash: SignedRequest.sha256Hex(Data(body.utf8))))
    fields[.authorization] = placeholder.replacingOccurrences(of: String(repeating: "0", count: 64), with: signature)
    return fields
}

extension TestClientProtocol {
    @discardableResult
    func signed(
        _ method: HTTPRequest.Method, _ uri: String, _ body: String = "", secret: String = "alice-secret",
        accessKeyID: String = "AKIDALICE", service: String = "lambda", at date: Date = Date(), extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        let headers = try signedHeaders(
            method, uri, body: body, accessKeyID: accessKeyID, secret: secret, service: service, at: date, extra: extra)
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
    }

    func bearer(_ method: HTTPRequest.Method, _ uri: String, token: String = "ci-token") async throws -> TestResponse {
        try await execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)"])
    }
}

/// A Lambda API refusal: 403, the type header, and `{"message": …}`.
func expectRefusal(
    _ response: TestResponse, type: String, message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(response.status == .forbidden, sourceLocation: sourceLocation)
    #expect(response.headers[HTTPField.Name("x-amzn-ErrorType")!] == type, sourceLocation: sourceLocation)
    #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!]?.count == 36, sourceLocation: sourceLocation)
    let body = try json(response)
    #expect(Set(body.keys) == ["message"], sourceLocation: sourceLocation)
    if let message { #expect(body["message"] as? String == message, sourceLocation: sourceLocation) }
}

/// A `/v1` refusal: 401 `Unauthorized` with `WWW-Authenticate: Bearer`.
func expectUnauthorized(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
    #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
    #expect(try json(response)["code"] as? String == "Unauthorized", sourceLocation: sourceLocation)
}

@Suite struct AuthMiddlewareTests {
    @Test func aSignedCallPassesAndItsUserIsTheAuditActor() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            let created = try await client.signed(.post, "/2015-03-31/functions", String(buffer: createBody("orders")))
            #expect(created.status == .created)
            let listed = try json(try await client.signed(.get, "/2015-03-31/functions?MaxItems=10"))
            #expect((listed["Functions"] as? [[String: Any]])?.first?["FunctionName"] as? String == "orders")
            let audit = try json(try await client.bearer(.get, "/v1/audit?function=orders"))
            let actors = (audit["entries"] as? [[String: Any]])?.compactMap { $0["actor"] as? String }
            #expect(actors == ["alice"])
        }
    }

    @Test func anUnsignedLambdaCallIsAMissingAuthenticationToken() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            try expectRefusal(
                try await client.send(.get, "/2015-03-31/functions"), type: "MissingAuthenticationTokenException",
                message: "Missing Authentication Token")
            // A bearer token is for /v1 only; the Lambda API takes SigV4, as AWS's does.
            try expectRefusal(try await client.bearer(.get, "/2015-03-31/functions"), type: "IncompleteSignatureException")
        }
    }

    @Test func aWrongSecretUnknownKeyOrStaleDateIsRefusedAsAWSDoes() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            try expectRefusal(
                try await client.signed(.get, "/2015-03-31/functions", secret: "guess"), type: "InvalidSignatureException",
                message: AuthFailure.signatureMismatch.message)
            try expectRefusal(
                try await client.signed(.get, "/2015-03-31/functions", accessKeyID: "AKIDMALLORY"), type: "UnrecognizedClientException",
                message: "The security token included in the request is invalid.")
            let stale = try await client.signed(.get, "/2015-03-31/functions", at: Date() - 20 * 60)
            try expectRefusal(stale, type: "InvalidSignatureException")
            #expect((try json(stale)["message"] as? String)?.hasPrefix("Signature expired: ") == true)
            try expectRefusal(
                try await client.signed(.get, "/2015-03-31/functions", service: "s3"), type: "InvalidSignatureException",
                message: "Credential should be scoped to correct service: 'lambda'.")
            try expectRefusal(
                try await client.execute(uri: "/2015-03-31/functions", method: .get, headers: [.authorization: "AWS4-HMAC-SHA256 Signature=1"]),
                type: "IncompleteSignatureException")
        }
    }

    @Test func theSignatureCoversTheBodyAndTheRouteStillReadsIt() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            let body = String(buffer: createBody("orders"))
            var headers = try signedHeaders(.post, "/2015-03-31/functions", body: body)
            headers[.contentType] = "application/json"
            let swapped = try await client.execute(
                uri: "/2015-03-31/functions", method: .post, headers: headers, body: createBody("mallory"))
            try expectRefusal(swapped, type: "InvalidSignatureException")
            #expect(try await client.signed(.get, "/2015-03-31/functions/mallory").status == .notFound)
        }
    }

    @Test func aBodyBeyondTheLimitIsRefusedAsTooLarge() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            let huge = String(repeating: "x", count: LambdaAPI.maxRequestBytes + AuthMiddleware.bodySlack + 1)
            let response = try await client.signed(.post, "/2015-03-31/functions/orders/invocations", huge)
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[HTTPField.Name("x-amzn-ErrorType")!] == "RequestEntityTooLargeException")
        }
    }

    @Test func aviarysAPIAndMetricsTakeATokenOrASignature() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            for path in ["/v1/audit", "/metrics"] {
                try expectUnauthorized(try await client.send(.get, path))
                try expectUnauthorized(try await client.bearer(.get, path, token: "ci-token-guess"))
                try expectUnauthorized(try await client.execute(uri: path, method: .get, headers: [.authorization: "Basic YTpi"]))
                try expectUnauthorized(try await client.signed(.get, path, secret: "guess", service: "aviary"))
                #expect(try await client.bearer(.get, path).status == .ok, "\(path)")
                #expect(try await client.signed(.get, path, service: "execute-api").status == .ok, "\(path)")
            }
            let refusal = try json(try await client.bearer(.get, "/v1/audit", token: "ci-token-guess"))
            #expect(!"\(refusal)".contains("ci-token"))
        }
    }

    @Test func codeDeploysEndpointTakesASignatureForCodeDeploy() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            let target: HTTPFields = [HTTPField.Name("X-Amz-Target")!: "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"]
            let body = #"{"deploymentId":"d-NOPE12345","lifecycleEventHookExecutionId":"x","status":"Succeeded"}"#
            let unsigned = try await client.execute(uri: "/", method: .post, headers: target, body: ByteBuffer(string: body))
            #expect(unsigned.status == .forbidden)
            #expect(try json(unsigned)["__type"] as? String == "MissingAuthenticationTokenException")
            let asLambda = try await client.signed(.post, "/", body, extra: target)
            #expect(try json(asLambda)["__type"] as? String == "InvalidSignatureException")
            let signed = try await client.signed(.post, "/", body, service: "codedeploy", extra: target)
            #expect(signed.status != .forbidden)
            #expect(try json(signed)["__type"] as? String == "DeploymentDoesNotExistException")
        }
    }

    @Test func healthFunctionURLsAndApprovalLinksStayOpen() async throws {
        try await TestServer(auth: try testKeys()).run { client in
            #expect(try await client.send(.get, "/health").status == .ok)
            let url = try await client.send(.get, "/url/nope/live/path")
            #expect(url.status == .notFound && url.headers[HTTPField.Name("x-amzn-ErrorType")!] == nil)
            // Whatever the approval page says about a made-up link, it is not an authentication refusal.
            let approval = try await client.send(.get, "/approvals/some-token")
            #expect(approval.headers[HTTPField.Name("x-amzn-ErrorType")!] != "MissingAuthenticationTokenException")
            #expect(approval.status != .unauthorized)
            try expectRefusal(try await client.send(.post, "/health"), type: "MissingAuthenticationTokenException")
        }
    }

    @Test func withoutKeysEverythingIsOpenAndTheActorAnonymous() async throws {
        try await TestServer().run { client in
            #expect(try await client.createFunction("orders").status == .created)
            #expect(try await client.send(.get, "/metrics").status == .ok)
            let audit = try json(try await client.send(.get, "/v1/audit?function=orders"))
            #expect((audit["entries"] as? [[String: Any]])?.compactMap { $0["actor"] as? String } == ["anonymous"])
        }
    }
}
