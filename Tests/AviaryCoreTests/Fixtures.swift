@testable import AviaryCore
import Synchronization
import Testing

/// A deterministic source of time and revision ids: rev-1, rev-2, …
final class TestChanges: Sendable {
    private let counter = Mutex(0)
    let now: Timestamp
    let prefix: String

    init(now: Timestamp = Timestamp(millisecondsSince1970: 1_700_000_000_123), prefix: String = "rev") {
        self.now = now
        self.prefix = prefix
    }

    var context: ChangeContext {
        ChangeContext(now: now) { self.nextRevisionId() }
    }

    func nextRevisionId() -> String {
        counter.withLock { value in
            value += 1
            return "\(prefix)-\(value)"
        }
    }
}

let scope = AccountScope()
let roleA = "arn:aws:iam::123456789012:role/lambda-role"
let codeA = CodeArtifact(sha256: "AAAA", size: 10)
let codeB = CodeArtifact(sha256: "BBBB", size: 20)

func makeFunction(_ name: String = "orders", changes: TestChanges = TestChanges(), publish: Bool = false) throws
    -> LambdaFunction
{
    let settings = FunctionSettings(runtime: "python3.12", handler: "index.handler", role: roleA)
    return try LambdaFunction.create(
        name: FunctionName(validating: name), settings: settings, code: codeA, publish: publish,
        context: changes.context
    ).function
}

/// A function with versions 1 and 2 published from different code.
func makeFunctionWithTwoVersions(changes: TestChanges = TestChanges()) throws -> LambdaFunction {
    var function = try makeFunction(changes: changes, publish: true)
    _ = try function.updateCode(codeB, architectures: nil, expectedRevisionId: nil, publish: true, context: changes.context)
    return function
}

func expectLambdaError(
    _ code: LambdaError.Code, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as LambdaError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        if let message { #expect(error.message == message, sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected LambdaError, got \(error)", sourceLocation: sourceLocation)
    }
}


/// The LambdaError `body` throws, if any.
func lambdaError(_ body: () throws -> Void) -> LambdaError? {
    do {
        try body()
        return nil
    } catch {
        return error as? LambdaError
    }
}
