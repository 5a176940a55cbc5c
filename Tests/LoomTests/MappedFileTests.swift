import XCTest
import Glibc
import Loom
import LoomCore

final class MappedFileTests: XCTestCase {
    func testMapsWholeFileAndReadsLittleEndian() throws {
        let path = "/tmp/loom-mapped-\(getpid()).bin"
        defer { unlink(path) }
        let data: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFF]
        try FileIO.write(path, data)
        let b = try MappedFile.open(path)
        XCTAssertEqual(b.count, 9)
        XCTAssertEqual(Array(b.bytes), data)
        XCTAssertEqual(b.u16(0), 0x0201)
        XCTAssertEqual(b.u32(0), 0x0403_0201)
        XCTAssertEqual(b.u64(1), 0xFF08_0706_0504_0302)
        let copy = ByteBuffer(copying: data)
        XCTAssertEqual(Array(copy.bytes), data)
    }

    func testErrorsNameThePath() {
        XCTAssertThrowsError(try MappedFile.open("/nonexistent/x.safetensors")) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .io)
            XCTAssertEqual((e as? LoomError)?.path, "/nonexistent/x.safetensors")
        }
        XCTAssertThrowsError(try MappedFile.open("/tmp")) { e in XCTAssertTrue("\(e)".contains("not a regular file")) }
        let empty = "/tmp/loom-empty-\(getpid()).bin"
        defer { unlink(empty) }
        XCTAssertNoThrow(try FileIO.write(empty, []))
        XCTAssertEqual(try MappedFile.open(empty).count, 0)
    }
}
