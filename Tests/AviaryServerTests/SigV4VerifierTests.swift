@testable import AviaryServer
import Crypto
import Foundation
import Testing

/// The credentials of AWS's SigV4 test suite.
enum Example {
    static let accessKeyID = "AKIDEXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let timestamp = "20150830T123600Z"
    static let signedAt = Date(timeIntervalSince1970: 1_440_938_160)

    static func keys() throws -> AuthKeys {
        try AuthKeys(keys: [.init(accessKeyId: accessKeyID, secretAccessKey: secret, user: "example")], tokens: [])
    }
}

/// A signed request and the signature AWS's test suite (or botocore, for Lambda-shaped requests) gives it.
struct SignatureVector: Sendable, CustomTestStringConvertible {
    var name: String
    var method = "GET"
    var path = "/"
    var query = ""
    var host = "example.amazonaws.com"
    var headers: [(name: String, value: String)] = []
    var body = ""
    var service = "service"
    var signedHeaders = "host;x-amz-date"
    var signature: String

    var testDescription: String { name }

    func authorization(signature: String? = nil, accessKeyID: String = Example.accessKeyID, scope: String? = nil) -> String {
        "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope ?? "20150830/us-east-1/\(service)/aws4_request"), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature ?? self.signature)"
    }

    func request(authorization: String? = nil, date: String = Example.timestamp) -> SignedRequest {
        SignedRequest(
            method: method, path: path, query: query,
            headers: [("Host", host), ("X-Amz-Date", date)] + headers + [("Authorization", authorization ?? self.authorization())])
    }
}

let awsSuite: [SignatureVector] = [
    SignatureVector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SignatureVector(name: "post-vanilla", method: "POST", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    SignatureVector(
        name: "get-vanilla-query-order-key-case", query: "Param2=value2&Param1=value1",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    SignatureVector(
        name: "post-x-www-form-urlencoded", method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")],
        body: "Param1=value1", signedHeaders: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
]

/// Computed with botocore's `SigV4Auth` (the signer of the `aws` CLI and boto3) for the same credentials.
let botocoreVectors: [SignatureVector] = [
    SignatureVector(
        name: "an ARN in the path is signed encoded twice",
        path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders/configuration",
        query: "Qualifier=%24LATEST", host: "127.0.0.1:2842", service: "lambda",
        signature: "f6a9cd80d8d6316e922984ccf8065b10d7df3899d0d0b6be9fd885734f66c4a5"),
    SignatureVector(
        name: "dot segments and double slashes are removed, header whitespace collapsed",
        path: "/example/../foo/./bar//baz/", headers: [("My-Header1", "  a   b \t c  ")],
        signedHeaders: "host;my-header1;x-amz-date", signature: "4f888346e40701eaf029f9760ba0c7049b1cf6238c897ae03efb9509f8c24f77"),
    SignatureVector(
        name: "a JSON body", method: "POST", path: "/2015-03-31/functions", host: "127.0.0.1:2842",
        headers: [("Content-Type", "application/json")], body: #"{"FunctionName":"orders"}"#, service: "lambda",
        signedHeaders: "content-type;host;x-amz-date", signature: "40357cb22a0de6b998b44c8f35ba1e1f2811e05a9781934531a68a46f3888cfb"),
    SignatureVector(
        name: "X-Amz-Content-SHA256 is signed in place of the body's hash", method: "POST", path: "/2015-03-31/functions",
        host: "127.0.0.1:2842",
        headers: [
            ("Content-Type", "application/json"),
            ("X-Amz-Content-SHA256", "fe1883b39f98ba0b2e8f15a879f7a0038899a53d4b0bdb83aec8c6492de0dda4"),
        ],
        body: #"{"FunctionName":"orders"}"#, service: "lambda", signedHeaders: "content-type;host;x-amz-content-sha256;x-amz-date",
        signature: "11fdaca4b665b2b7fd63fda57345790f2645675878a8ec544b3c64d292994d52"),
]

@Suite struct SigV4VerifierTests {
    func verify(
        _ request: SignedRequest, body: String = "", service: String? = "service", region: String? = "us-east-1",
        now: Date = Example.signedAt
    ) throws -> String {
        try SigV4Verifier(keys: try Example.keys())
            .check(request, for: .init(region: region, service: service), now: now)
            .verify(body: Data(body.utf8))
    }

    func failure(_ body: () throws -> String) -> AuthFailure? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? AuthFailure
        }
    }

    @Test(arguments: awsSuite + botocoreVectors)
    func publishedAndBotocoreSignaturesVerify(vector: SignatureVector) throws {
        #expect(try verify(vector.request(), body: vector.body, service: vector.service) == "example")
    }

    @Test func theCanonicalRequestIsAWSsForGetVanilla() throws {
        let request = awsSuite[0].request()
        let canonical = request.canonicalRequestPrefix(signedHeaders: ["host", "x-amz-date"]) + SignedRequest.sha256Hex(Data())
        #expect(
            canonical == """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
    }

    @Test(arguments: [
        ("", "/"), ("/", "/"), ("/functions/arn%3Aaws", "/functions/arn%253Aaws"), ("/a/./b/../c//d/", "/a/c/d/"),
        ("/..", "/"), ("/example space/", "/example%20space/"), ("/~user/a-b_c.d", "/~user/a-b_c.d"),
    ])
    func theCanonicalPathIsTheRawPathNormalisedAndEncodedOnceMore(raw: String, canonical: String) {
        #expect(SignedRequest.canonicalURI(raw) == canonical)
    }

    @Test(arguments: [
        ("b=2&a=%7e&a=1&c", "a=1&a=~&b=2&c="), ("Qualifier=%24LATEST", "Qualifier=%24LATEST"), ("x=a:b", "x=a%3Ab"),
        ("x=%zz", "x=%25zz"), ("&&x=1&", "x=1"), ("k=a%20b+c", "k=a%20b%2Bc"),
    ])
    func theCanonicalQueryIsDecodedReencodedAndSorted(raw: String, canonical: String) {
        #expect(SignedRequest.canonicalQuery(raw) == canonical)
    }

    enum Tamper: CaseIterable { case signature, method, path, query, signedHeader, body }

    @Test(arguments: Tamper.allCases)
    func anyChangeToASignedPartBreaksTheSignature(tamper: Tamper) throws {
        let vector = awsSuite[3]
        var request = vector.request()
        var body = vector.body
        switch tamper {
        case .signature: request = vector.request(authorization: vector.authorization(signature: "6" + vector.signature.dropFirst()))
        case .method: request.method = "PUT"
        case .path: request.path = "/other"
        case .query: request.query = "Param1=value2"
        case .signedHeader: request.headers[2].value = "application/json"
        case .body: body = "Param1=value2"
        }
        #expect(failure { try verify(request, body: body) } == .signatureMismatch)
    }

    @Test func aDeclaredPayloadHashMustBeTheBodysHash() throws {
        let vector = botocoreVectors[3]
        let error = failure { try verify(vector.request(), body: #"{"FunctionName":"other"}"#, service: "lambda") }
        #expect(error == AuthFailure("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."))
    }

    @Test func aStaleDateIsRefusedInAWSsWords() {
        let error = failure { try verify(awsSuite[0].request(), now: Example.signedAt + 16 * 60) }
        #expect(
            error == AuthFailure(
                "InvalidSignatureException",
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)"))
    }

    @Test func aDateTooFarAheadIsRefused() {
        let error = failure { try verify(awsSuite[0].request(), now: Example.signedAt - 16 * 60) }
        #expect(
            error == AuthFailure(
                "InvalidSignatureException",
                "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)"))
    }

    @Test(arguments: [-14 * 60.0, 14 * 60.0])
    func aClockSkewWithinFifteenMinutesIsAccepted(offset: TimeInterval) throws {
        #expect(try verify(awsSuite[0].request(), now: Example.signedAt + offset) == "example")
    }

    @Test func anUnknownAccessKeyIsAnUnrecognizedClient() {
        let vector = awsSuite[0]
        let error = failure { try verify(vector.request(authorization: vector.authorization(accessKeyID: "AKIDOTHER"))) }
        #expect(error == .unrecognizedClient)
    }

    @Test func noAuthorizationHeaderIsAMissingToken() {
        let request = SignedRequest(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])
        #expect(failure { try verify(request) } == .missingToken)
    }

    @Test(arguments: [
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential",
        "Bearer abc",
        "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host, Signature=00",
    ])
    func aMalformedHeaderIsAnIncompleteSignature(header: String) {
        #expect(failure { try verify(awsSuite[0].request(authorization: header)) }?.code == "IncompleteSignatureException")
    }

    @Test(arguments: [nil, "2015-08-30T12:36:00Z", "20150231T123600Z", "20150830T123600.5Z"])
    func aMissingOrMalformedDateIsAnIncompleteSignature(date: String?) {
        var request = awsSuite[0].request(date: date ?? "")
        if date == nil { request.headers.removeAll { $0.name == "x-amz-date" } }
        #expect(failure { try verify(request) }?.code == "IncompleteSignatureException")
    }

    @Test func theCredentialScopeMustNameThisServiceRegionAndDate() {
        let vector = awsSuite[0]
        #expect(
            failure { try verify(vector.request(), service: "lambda") }
                == AuthFailure("InvalidSignatureException", "Credential should be scoped to correct service: 'lambda'."))
        #expect(failure { try verify(vector.request(), region: "eu-west-1") }?.message.hasPrefix(
            "Credential should be scoped to a valid region, not 'us-east-1'.") == true)
        let nextDay = vector.request(authorization: vector.authorization(scope: "20150831/us-east-1/service/aws4_request"))
        #expect(failure { try verify(nextDay) }?.message.hasPrefix("Date in Credential scope does not match") == true)
        let badTerminator = vector.request(authorization: vector.authorization(scope: "20150830/us-east-1/service/aws5_request"))
        #expect(failure { try verify(badTerminator) }?.code == "InvalidSignatureException")
    }

    @Test func anyServiceAndRegionAreAcceptedWhenTheAudienceSaysSo() throws {
        #expect(try verify(awsSuite[0].request(), service: nil, region: nil) == "example")
    }

    @Test func hostMustBeSigned() {
        var vector = awsSuite[0]
        vector.signedHeaders = "x-amz-date"
        #expect(failure { try verify(vector.request()) }?.code == "InvalidSignatureException")
    }
}

/// The verifier keeps signing keys by secret and scope, so that it derives each once a day, not per request.
@Suite struct SigV4SigningKeyCacheTests {
    static func scope(secret: String = Example.secret, date: String = "20150830") -> SigningKeyCache.Scope {
        .init(secret: secret, date: date, region: "us-east-1", service: "service")
    }

    static func derive(_ scope: SigningKeyCache.Scope) -> SymmetricKey {
        SigV4Verifier.signingKey(secret: scope.secret, scope: [scope.date, scope.region, scope.service, "aws4_request"])
    }

    /// What a signer makes of a fixed message, to tell which key it holds.
    static func mac(_ signer: HMAC<SHA256>) -> String {
        var signer = signer
        signer.update(data: Data("message".utf8))
        return SignedRequest.hex(signer.finalize())
    }

    /// The same, keyed with the signing key of `scope` computed afresh.
    static func mac(_ scope: SigningKeyCache.Scope) -> String {
        SignedRequest.hex(HMAC<SHA256>.authenticationCode(for: Data("message".utf8), using: derive(scope)))
    }

    @Test func aSecondRequestInTheSameScopeReusesTheSigningKey() throws {
        let verifier = SigV4Verifier(keys: try Example.keys())
        for _ in 1...2 {
            let pending = try verifier.check(awsSuite[0].request(), for: .init(region: "us-east-1", service: "service"), now: Example.signedAt)
            #expect(try pending.verify(body: Data()) == "example")
        }
        #expect(verifier.signingKeys.count == 1)
        let cached = verifier.signingKeys.signer(for: Self.scope()) {
            Issue.record("the key of a scope already used was derived again")
            return SymmetricKey(size: .bits256)
        }
        #expect(Self.mac(cached) == Self.mac(Self.scope()))
    }

    @Test func aDifferentSecretOrDateDerivesItsOwnKey() {
        let cache = SigningKeyCache()
        var derivations = 0
        func mac(_ scope: SigningKeyCache.Scope) -> String {
            Self.mac(
                cache.signer(for: scope) {
                    derivations += 1
                    return Self.derive(scope)
                })
        }
        let first = mac(Self.scope())
        for scope in [Self.scope(secret: "another-secret"), Self.scope(date: "20150831")] {
            let other = mac(scope)
            #expect(other == Self.mac(scope))
            #expect(other != first)
        }
        #expect(derivations == 3)
        #expect(mac(Self.scope()) == first && derivations == 3)
    }

    @Test func aNewDayIsSignedWithItsOwnKey() throws {
        let verifier = SigV4Verifier(keys: try Example.keys())
        let vector = awsSuite[0]
        _ = try verifier.check(vector.request(), for: .init(region: nil, service: nil), now: Example.signedAt).verify(body: Data())
        // The same request a day later: its key must be that day's, not the one cached the day before.
        let nextDay = SignedRequest(
            method: "GET", path: "/",
            headers: [
                ("Host", vector.host), ("X-Amz-Date", "20150831T123600Z"),
                (
                    "Authorization",
                    vector.authorization(signature: String(repeating: "0", count: 64), scope: "20150831/us-east-1/service/aws4_request")
                ),
            ])
        let pending = try verifier.check(nextDay, for: .init(region: nil, service: nil), now: Example.signedAt + 86_400)
        #expect(Self.mac(pending.signer) == Self.mac(Self.scope(date: "20150831")))
        #expect(verifier.signingKeys.count == 2)
    }

    @Test func theCacheStartsOverBeyondItsCapacity() {
        let cache = SigningKeyCache()
        for day in 0..<SigningKeyCache.capacity {
            _ = cache.signer(for: Self.scope(date: "day\(day)")) { SymmetricKey(size: .bits256) }
        }
        #expect(cache.count == SigningKeyCache.capacity)
        let scope = Self.scope(date: "one-more")
        #expect(Self.mac(cache.signer(for: scope) { Self.derive(scope) }) == Self.mac(scope))
        #expect(cache.count == 1)
    }
}

@Suite struct AuthKeysTests {
    static let secrets = ["s3cr3t-one", "s3cr3t-two", "t0ken-one", "t0ken-two"]

    @Test func aKeysFileNamesUsersForKeysAndTokens() throws {
        let keys = try AuthKeys(
            json: Data(
                """
                {"keys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "s3cr3t-one", "user": "alice"},
                          {"accessKeyId": "AKIDBOB", "secretAccessKey": "s3cr3t-two", "user": "bob"}],
                 "tokens": [{"token": "t0ken-one", "user": "ci-bot"}]}
                """.utf8))
        #expect(keys.keyCount == 2 && keys.tokenCount == 1)
        #expect(keys.accessKey(id: "AKIDBOB")?.secretAccessKey == "s3cr3t-two")
        #expect(keys.accessKey(id: "AKIDCAROL") == nil)
        #expect(keys.user(forToken: "t0ken-one") == "ci-bot")
        #expect(keys.user(forToken: "t0ken-on") == nil)
        #expect(keys.description == "2 access keys, 1 token")
    }

    @Test func tokensAloneOrKeysAloneAreEnough() throws {
        #expect(try AuthKeys(json: Data(#"{"tokens": [{"token": "t0ken-one", "user": "ci"}]}"#.utf8)).tokenCount == 1)
        #expect(try AuthKeys(json: Data(#"{"keys": [{"accessKeyId": "A1", "secretAccessKey": "x", "user": "a"}]}"#.utf8)).keyCount == 1)
    }

    @Test(arguments: [
        ("{}", "no entries"),
        (#"{"keys": [], "tokens": []}"#, "no entries"),
        ("keys = 1", "not valid JSON"),
        (#"{"keys": {"accessKeyId": "A"}}"#, "expected"),
        (#"{"keys": [{"accessKeyId": "A", "user": "a"}]}"#, #"missing "secretAccessKey" in .keys[0]"#),
        (
            #"{"keys": [{"accessKeyId": "A", "secretAccessKey": "s3cr3t-one", "user": "a"}, {"accessKeyId": "A", "secretAccessKey": "s3cr3t-two", "user": "b"}]}"#,
            "keys[1] repeats the accessKeyId A"
        ),
        (#"{"keys": [{"accessKeyId": "A", "secretAccessKey": "", "user": "a"}]}"#, "keys[0] (A) has an empty secretAccessKey"),
        (#"{"keys": [{"accessKeyId": "", "secretAccessKey": "s3cr3t-one", "user": "a"}]}"#, "keys[0] has an empty accessKeyId"),
        (#"{"keys": [{"accessKeyId": "A/B", "secretAccessKey": "s3cr3t-one", "user": "a"}]}"#, "only ASCII letters and digits"),
        (#"{"keys": [{"accessKeyId": "A", "secretAccessKey": "s3cr3t-one", "user": ""}]}"#, "keys[0] (A) has an empty user"),
        (
            #"{"tokens": [{"token": "t0ken-one", "user": "a"}, {"token": "t0ken-one", "user": "b"}]}"#,
            "tokens[1] repeats the token of tokens[0]"
        ),
        (#"{"tokens": [{"token": "", "user": "a"}]}"#, "tokens[0] has an empty token"),
        (#"{"tokens": [{"token": "t0ken one", "user": "a"}]}"#, "only visible ASCII characters"),
    ])
    func aBadKeysFileIsRefusedWithoutQuotingSecrets(json: String, expected: String) {
        #expect {
            try AuthKeys(json: Data(json.utf8), source: "keys.json")
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("keys.json") && message.contains(expected)
                && !Self.secrets.contains { message.contains($0) }
        }
    }

    @Test func anUnreadableFileIsNamed() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-keys-\(UUID().uuidString).json")
        #expect {
            try AuthKeys(contentsOf: path)
        } throws: { error in
            "\(error)".hasPrefix("cannot read the keys file \(path.path)")
        }
    }
}
