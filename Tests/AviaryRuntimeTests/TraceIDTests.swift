@testable import AviaryRuntime
import Testing

@Suite struct TraceIDTests {
    @Test func theTraceIDIsMadeFromTheRequestID() {
        #expect(
            RuntimeAPIHandler.traceID("8e1b2c3d-4f5a-6b7c-8d9e-0f1a2b3c4d5e")
                == "Root=1-8e1b2c3d-4f5a6b7c8d9e0f1a2b3c4d5e;Sampled=0")
    }
}
