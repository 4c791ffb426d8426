import AviaryCore
import AviaryEngine
import AviaryRuntime
import AviaryServer
import AviaryStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import HTTPTypes
import Testing

/// An application over an in-memory store and a temporary code folder; with `auth`, requiring credentials.
struct TestServer {
    let store: RegistryStore
    let codeRoot: URL
    let app: Application<RouterResponder<LambdaRequestContext>>

    init(auth: AuthKeys? = nil) throws {
        store = try RegistryStore.inMemory()
        codeRoot = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-code-\(UUID().uuidString)")
        let code = try CodeStore(root: codeRoot.appendingPathComponent("code"))
        let runtime = try FunctionRuntime(
            settings: RuntimeSettings(dataDirectory: codeRoot, scope: AccountScope()), code: code, logger: Logger(label: "test"))
        let events = EventQueue(
            store: store, runtime: runtime, scope: AccountScope(), retryDelay: .seconds(60), logger: Logger(label: "test"))
        let engine = DeploymentEngine(
            store: store, runtime: runtime, events: events, scope: AccountScope(), logger: Logger(label: "test"))
        app = Application(
            router: buildRouter(
                store: store, code: code, runtime: runtime, events: events, engine: engine, scope: AccountScope(), auth: auth))
    }

    func run(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(at: codeRoot) }
        try await app.test(.router, body)
    }
}

/// A minimal valid zip holding `index.py` (made once with Python's zipfile).
let helloZip: Data = Data(base64Encoded:
    "UEsDBBQAAAAAAAAAIVBq3gF4HAAAABwAAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihlLCBjKTogcmV0dXJuIDEKUEsBAhQDFAAAAAAAAAAhUGreAXgcAAAAHAAAAAgAAAAAAAAAAAAAAKSBAAAAAGluZGV4LnB5UEsFBgAAAAABAAEANgAAAEIAAAAAAA==")!

func createBody(_ name: String, publish: Bool = false, extra: String = "") -> ByteBuffer {
    ByteBuffer(string: """
        {"FunctionName":"\(name)","Runtime":"python3.12","Handler":"index.handler",
         "Role":"arn:aws:iam::123456789012:role/r","Publish":\(publish),
         "Code":{"ZipFile":"\(helloZip.base64EncodedString())"}\(extra)}
        """)
}

func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    return try #require(object as? [String: Any])
}

extension TestClientProtocol {
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
        try await execute(uri: uri, method: method, body: body.map { ByteBuffer(string: $0) })
    }

    @discardableResult
    func createFunction(_ name: String, publish: Bool = false) async throws -> TestResponse {
        try await execute(uri: "/2015-03-31/functions", method: .post, body: createBody(name, publish: publish))
    }
}

/// Checks an AWS-style error: status, `x-amzn-ErrorType`, and the message in its model-specific member.
func expectAWSError(
    _ response: TestResponse, status: HTTPResponse.Status, type: String, message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.headers[HTTPField.Name("x-amzn-ErrorType")!] == type, sourceLocation: sourceLocation)
    #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!]?.count == 36, sourceLocation: sourceLocation)
    let body = try json(response)
    #expect(body["Type"] as? String == "User", sourceLocation: sourceLocation)
    let text = (body["message"] ?? body["Message"]) as? String
    if let message { #expect(text == message, sourceLocation: sourceLocation) }
}
