@testable import AviaryTemplate
import Crypto
import Foundation
import Testing
import ZIPFoundation

/// Same files → same bytes → same `CodeSha256`, whatever the clock, the checkout or the file system says.
@Suite struct PackagerTests {
    static let files = [
        "app.py": "def handler(event, context):\n    return 1\n",
        "lib/util.py": "X = 1\n",
        "lib/data/table.json": "{}",
        ".env.example": "KEY=value\n",
        "bootstrap": "#!/bin/sh\nexec python3 app.py\n",
        "empty.txt": "",
    ]

    func makeFolder(_ files: [String: String] = files) throws -> TemplateFolder {
        let folder = try TemplateFolder(files: files)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.url.appendingPathComponent("bootstrap").path)
        return folder
    }

    func entries(_ zip: Data) throws -> [(path: String, entry: Entry)] {
        let archive = try Archive(data: zip, accessMode: .read)
        return archive.map { ($0.path, $0) }
    }

    func contents(of entry: Entry, in zip: Data) throws -> Data {
        let archive = try Archive(data: zip, accessMode: .read)
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return data
    }

    @Test func aFolderIsZippedSortedWithFixedDatesAndPermissions() throws {
        let folder = try makeFolder()
        defer { folder.remove() }
        let zip = try Packager.package(.directory(folder.url))
        let listed = try entries(zip)
        #expect(listed.map(\.path) == [".env.example", "app.py", "bootstrap", "empty.txt", "lib/data/table.json", "lib/util.py"])
        for (path, entry) in listed {
            #expect(entry.type == .file, "no directory entries: \(path)")
            #expect(entry.fileAttributes[.modificationDate] as? Date == Packager.modificationDate, "\(path)")
            let permissions = (entry.fileAttributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(permissions == (path == "bootstrap" ? 0o755 : 0o644), "\(path)")
            #expect(try contents(of: entry, in: zip) == Data(Self.files[path]!.utf8), "\(path)")
        }
        #expect(try #require(listed.first { $0.path == "app.py" }).entry.isCompressed, "deflated")
    }

    @Test func packagingTwiceAfterTouchingEveryFileGivesTheSameBytes() throws {
        let folder = try makeFolder()
        defer { folder.remove() }
        let first = try Packager.package(.directory(folder.url))
        #expect(try Packager.package(.directory(folder.url)) == first)
        let later = Date(timeIntervalSinceNow: 86_400)
        for path in Self.files.keys {
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: folder.url.appendingPathComponent(path).path)
        }
        let touched = try Packager.package(.directory(folder.url))
        #expect(Packager.codeSha256(touched) == Packager.codeSha256(first))
        #expect(touched == first)
    }

    @Test func theSameFilesWrittenInAnotherOrderElsewhereGiveTheSameBytes() throws {
        let one = try makeFolder()
        defer { one.remove() }
        let other = try TemplateFolder(files: [:])
        defer { other.remove() }
        for path in Self.files.keys.sorted().reversed() { try other.write(path, Self.files[path]!) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: other.url.appendingPathComponent("bootstrap").path)
        #expect(try Packager.package(.directory(one.url)) == (try Packager.package(.directory(other.url))))
    }

    @Test func oneChangedByteOrModeChangesTheHash() throws {
        let folder = try makeFolder()
        defer { folder.remove() }
        let original = Packager.codeSha256(try Packager.package(.directory(folder.url)))
        try folder.write("lib/util.py", "X = 2\n")
        let edited = Packager.codeSha256(try Packager.package(.directory(folder.url)))
        #expect(edited != original)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.url.appendingPathComponent("app.py").path)
        #expect(Packager.codeSha256(try Packager.package(.directory(folder.url))) != edited, "the executable bit is part of the code")
    }

    @Test func codeSha256IsTheBase64SHA256OfTheZip() throws {
        let zip = Data("not really a zip".utf8)
        #expect(Packager.codeSha256(zip) == Data(SHA256.hash(data: zip)).base64EncodedString())
    }

    @Test func aZipIsUsedByteForByte() throws {
        let folder = try TemplateFolder(files: [:])
        defer { folder.remove() }
        let bytes = Data([0x50, 0x4b, 0x05, 0x06] + Array(repeating: 0, count: 18))
        let url = folder.url.appendingPathComponent("orders.zip")
        try bytes.write(to: url)
        #expect(try Packager.package(.zipFile(url)) == bytes)
    }

    @Test func inlineCodeIsOneFileZippedTheSameWay() throws {
        let zip = try Packager.package(.inline(fileName: "index.py", source: "def handler(e, c): return 1\n"))
        let listed = try entries(zip)
        #expect(listed.map(\.path) == ["index.py"])
        #expect(listed[0].entry.fileAttributes[.modificationDate] as? Date == Packager.modificationDate)
        #expect(try contents(of: listed[0].entry, in: zip) == Data("def handler(e, c): return 1\n".utf8))
        #expect(try Packager.package(.inline(fileName: "index.py", source: "def handler(e, c): return 1\n")) == zip)
    }

    @Test func linksInsideTheFolderAreKeptAsLinks() throws {
        let folder = try makeFolder()
        defer { folder.remove() }
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: folder.url.appendingPathComponent("lib/current.json").path, withDestinationPath: "data/table.json")
        try manager.createSymbolicLink(
            atPath: folder.url.appendingPathComponent("lib/data/app.py").path,
            withDestinationPath: folder.url.resolvingSymlinksInPath().appendingPathComponent("app.py").path)
        let zip = try Packager.package(.directory(folder.url))
        let listed = try entries(zip)
        let relative = try #require(listed.first { $0.path == "lib/current.json" }).entry
        #expect(relative.type == .symlink)
        #expect(try contents(of: relative, in: zip) == Data("data/table.json".utf8))
        let absolute = try #require(listed.first { $0.path == "lib/data/app.py" }).entry
        #expect(try contents(of: absolute, in: zip) == Data("../../app.py".utf8), "an absolute target inside is made relative")
    }

    @Test func linksLeavingTheFolderAreRefused() throws {
        let folder = try makeFolder()
        defer { folder.remove() }
        let link = folder.url.appendingPathComponent("lib/passwd").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../../../../../../etc/passwd")
        let root = folder.url.resolvingSymlinksInPath().path
        #expect(throws: TemplateError("cannot package \(root): the link 'lib/passwd' points outside the folder")) {
            try Packager.package(.directory(folder.url))
        }
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/passwd")
        #expect(throws: TemplateError("cannot package \(root): the link 'lib/passwd' points outside the folder")) {
            try Packager.package(.directory(folder.url))
        }
    }
}
