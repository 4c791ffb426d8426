import AviaryCore
import AviaryStore
import Foundation
import NIOCore
import Testing

@testable import AviaryRuntime

@Suite struct DestinationRecordTests {
    let event = QueuedEvent(
        requestID: "e4b46cbf-b738-xmpl-8880-a18cdf61200e", function: FunctionName(trusted: "orders"), qualifier: "live",
        payload: Data(#"{"order": 7}"#.utf8), attempts: 3, enqueuedAt: Timestamp(millisecondsSince1970: 0),
        dueAt: Timestamp(millisecondsSince1970: 0))

    func record(_ condition: String, run: (VersionSelector, InvocationOutcome)?) throws -> [String: Any] {
        let data = EventQueue.destinationRecord(
            for: event, functionARN: "arn:aws:lambda:us-east-1:123456789012:function:orders:live", condition: condition,
            run: run, at: Date(timeIntervalSince1970: 1_573_755_365.568))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aFailureRecordIsLambdas() throws {
        let failed = try record(
            "RetriesExhausted",
            run: (.published(VersionNumber(2)), .functionError(ByteBuffer(string: #"{"errorType":"KeyError","errorMessage":"x"}"#))))
        #expect(failed["version"] as? String == "1.0")
        #expect(failed["timestamp"] as? String == "2019-11-14T18:16:05.568Z")
        let context = try #require(failed["requestContext"] as? [String: Any])
        #expect(context["requestId"] as? String == event.requestID)
        #expect(context["functionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders:live")
        #expect(context["condition"] as? String == "RetriesExhausted")
        #expect(context["approximateInvokeCount"] as? Int == 3)
        #expect(failed["requestPayload"] as? [String: Int] == ["order": 7])
        let response = try #require(failed["responseContext"] as? [String: Any])
        #expect(response["statusCode"] as? Int == 200 && response["executedVersion"] as? String == "2")
        #expect(response["functionError"] as? String == "Unhandled")
        #expect((failed["responsePayload"] as? [String: String])?["errorType"] == "KeyError")
    }

    @Test func successAndAgeRecords() throws {
        let success = try record("Success", run: (.latest, .success(ByteBuffer(string: "\"done\""))))
        #expect(success["responsePayload"] as? String == "done")
        #expect((success["responseContext"] as? [String: Any])?["functionError"] == nil)
        let old = try record("EventAgeExceeded", run: nil)
        #expect(old["responseContext"] == nil && old["responsePayload"] == nil)
        #expect((old["requestContext"] as? [String: Any])?["condition"] as? String == "EventAgeExceeded")
    }
}
