package blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
	"zwfw/platform/blobs"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// pdfOfSize is a valid PDF of exactly n bytes (n >= 200): header, zeros, trailer.
func pdfOfSize(n int) []byte {
	b := make([]byte, n)
	copy(b, pdfFile())
	copy(b[n-6:], "%%EOF\n")
	return b
}

// generator produces a PDF header and then zeros, up to size bytes, without
// ever holding them: it stands for a client streaming a huge upload.
type generator struct {
	size, read int64
	onRead     func(read int64) // called after each Read, if set
}

func (g *generator) Read(p []byte) (int, error) {
	if g.read >= g.size {
		return 0, io.EOF
	}
	if int64(len(p)) > g.size-g.read {
		p = p[:g.size-g.read]
	}
	clear(p)
	if g.read == 0 {
		copy(p, "%PDF-1.7\n")
	}
	g.read += int64(len(p))
	if g.onRead != nil {
		g.onRead(g.read)
	}
	return len(p), nil
}

// leftovers counts the documents in materials.files and materials.chunks.
func leftovers(t *testing.T, db *mongo.Database) (files, chunks int64) {
	t.Helper()
	ctx := context.Background()
	files, err := db.Collection("materials.files").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = db.Collection("materials.chunks").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return files, chunks
}

func assertNothingLeft(t *testing.T, db *mongo.Database) {
	t.Helper()
	if files, chunks := leftovers(t, db); files != 0 || chunks != 0 {
		t.Fatalf("left behind %d files and %d chunks", files, chunks)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutOpenRoundTrip(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx := context.Background()

	tests := []struct {
		name string
		data []byte
		kind blobs.Kind
	}{
		{"营业执照副本.pdf", pdfFile(), blobs.KindPDF},
		{"photo.jpg", jpegFile(t), blobs.KindJPEG},
		{"../../etc/passwd", pngFile(t), blobs.KindPNG},                 // the kind comes from the bytes, the name is cleaned
		{"多块.pdf", pdfOfSize(3*255*1024 + 17), blobs.KindPDF},           // several GridFS chunks, the last one partial
		{"整块.pdf", pdfOfSize(2 * 255 * 1024), blobs.KindPDF},            // exactly two chunks
		{"上限.pdf", pdfOfSize(int(blobs.DefaultMaxSize)), blobs.KindPDF}, // exactly the limit is allowed
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			blob, err := store.Put(ctx, bytes.NewReader(tt.data), blobs.Meta{Owner: "u1", Name: tt.name, Purpose: "营业执照"})
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := blobs.Blob{
				ID: blob.ID, Kind: tt.kind, Size: int64(len(tt.data)), SHA256: sha(tt.data),
				Name: blobs.SafeName(tt.name), Owner: "u1", Purpose: "营业执照", CreatedAt: blob.CreatedAt,
			}
			if blob != want {
				t.Fatalf("Put = %+v\nwant  %+v", blob, want)
			}
			if blob.ID == "" || blob.CreatedAt.Before(before) || blob.CreatedAt.After(time.Now().Add(time.Second)) {
				t.Fatalf("Put: id %q created %v", blob.ID, blob.CreatedAt)
			}

			stat, err := store.Stat(ctx, blob.ID)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if !stat.CreatedAt.Equal(blob.CreatedAt) {
				t.Fatalf("Stat CreatedAt = %v, want %v", stat.CreatedAt, blob.CreatedAt)
			}
			stat.CreatedAt = blob.CreatedAt
			if stat != blob {
				t.Fatalf("Stat = %+v\nwant   %+v", stat, blob)
			}

			rc, opened, err := store.Open(ctx, blob.ID)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := rc.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("Open returned %d bytes that differ from the %d uploaded", len(got), len(tt.data))
			}
			opened.CreatedAt = blob.CreatedAt
			if opened != blob {
				t.Fatalf("Open blob = %+v\nwant       %+v", opened, blob)
			}
		})
	}
	if files, _ := leftovers(t, db); files != int64(len(tests)) {
		t.Fatalf("%d files stored, want %d", files, len(tests))
	}
}

// The hash lets a caller spot the same material uploaded twice; the store
// itself keeps both.
func TestSameContentSameHash(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx := context.Background()
	a, err := store.Put(ctx, bytes.NewReader(pdfFile()), blobs.Meta{Owner: "u1", Name: "a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Put(ctx, bytes.NewReader(pdfFile()), blobs.Meta{Owner: "u1", Name: "b.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.SHA256 != b.SHA256 {
		t.Fatalf("ids %s %s, hashes %s %s", a.ID, b.ID, a.SHA256, b.SHA256)
	}
}

// Every refused upload leaves nothing in materials.files or materials.chunks,
// including those refused after chunks were already written.
func TestPutRefusalsLeaveNothingBehind(t *testing.T) {
	pngB := pngFile(t)
	tests := []struct {
		name    string
		body    func() io.Reader
		maxSize int64
		err     error
		kind    apperr.Kind
	}{
		{"an ELF executable named x.pdf", func() io.Reader { return bytes.NewReader(elfHeader) }, 0,
			blobs.ErrUnsupportedType, apperr.KindInvalid},
		{"a Windows executable", func() io.Reader { return bytes.NewReader(peHeader) }, 0,
			blobs.ErrUnsupportedType, apperr.KindInvalid},
		{"an empty body", func() io.Reader { return bytes.NewReader(nil) }, 0,
			blobs.ErrUnsupportedType, apperr.KindInvalid},
		{"a truncated PNG", func() io.Reader { return bytes.NewReader(pngB[:len(pngB)-5]) }, 0,
			blobs.ErrCorruptFile, apperr.KindInvalid},
		{"a 1 MB PDF that never ends (chunks written, then refused)", func() io.Reader { return &generator{size: 1 << 20} }, 0,
			blobs.ErrCorruptFile, apperr.KindInvalid},
		{"one byte over a 600 KiB limit", func() io.Reader { return bytes.NewReader(pdfOfSize(600<<10 + 1)) }, 600 << 10,
			blobs.ErrTooLarge, apperr.KindTooLarge},
		{"a reader that fails half way", func() io.Reader {
			return io.MultiReader(bytes.NewReader(pdfOfSize(600<<10)), iotestErrReader{})
		}, 0, blobs.ErrIncomplete, apperr.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := testenv.DB(t)
			store := blobs.NewStore(db, blobs.Options{MaxSize: tt.maxSize})
			_, err := store.Put(context.Background(), tt.body(), blobs.Meta{Owner: "u1", Name: "x.pdf"})
			if !errors.Is(err, tt.err) {
				t.Fatalf("Put = %v, want %v", err, tt.err)
			}
			if apperr.KindOf(err) != tt.kind {
				t.Fatalf("kind = %v, want %v", apperr.KindOf(err), tt.kind)
			}
			assertNothingLeft(t, db)
		})
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// A 50 MB upload is refused once the limit is passed, without reading (or
// holding) the rest of it, and the 10 MB already stored are removed.
func TestPutRefusesHugeUploadWhileReading(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	body := &generator{size: 50 << 20}

	_, err := store.Put(context.Background(), body, blobs.Meta{Owner: "u1", Name: "huge.pdf"})
	if !errors.Is(err, blobs.ErrTooLarge) {
		t.Fatalf("Put = %v, want MATERIAL_TOO_LARGE", err)
	}
	e := apperr.From(err)
	if e.Kind != apperr.KindTooLarge || e.Message != "单个文件不能超过10MB" || e.Kind.HTTPStatus() != 413 {
		t.Fatalf("error = %+v", e)
	}
	if body.read > blobs.DefaultMaxSize+1 {
		t.Fatalf("read %d bytes of the upload, want at most the limit + 1 (%d)", body.read, blobs.DefaultMaxSize+1)
	}
	assertNothingLeft(t, db)
}

// The limit message follows the configured limit.
func TestTooLargeMessageFollowsLimit(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{MaxSize: 2 << 20})
	_, err := store.Put(context.Background(), &generator{size: 3 << 20}, blobs.Meta{Owner: "u1"})
	if e := apperr.From(err); e.Code != "MATERIAL_TOO_LARGE" || e.Message != "单个文件不能超过2MB" {
		t.Fatalf("error = %v", err)
	}
}

// A client that goes away mid-upload leaves nothing behind, even though the
// chunks already written must be removed with the request's context cancelled.
func TestPutCancelledMidUploadLeavesNothingBehind(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var chunksAtCancel int64
	body := &generator{size: 5 << 20, onRead: func(read int64) {
		if read >= 1<<20 && ctx.Err() == nil {
			_, chunksAtCancel = leftovers(t, db)
			cancel()
		}
	}}
	_, err := store.Put(ctx, body, blobs.Meta{Owner: "u1", Name: "a.pdf"})
	if !errors.Is(err, blobs.ErrIncomplete) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want MATERIAL_UPLOAD_INCOMPLETE caused by context.Canceled", err)
	}
	if chunksAtCancel == 0 {
		t.Fatal("no chunk was written before the cancel; the test proves nothing")
	}
	assertNothingLeft(t, db)
}

func TestUnknownIDs(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx := context.Background()
	for _, id := range []string{bson.NewObjectID().Hex(), "not-an-id", "", "../../etc/passwd"} {
		if _, _, err := store.Open(ctx, id); !errors.Is(err, blobs.ErrNotFound) || apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("Open(%q) = %v, want MATERIAL_NOT_FOUND", id, err)
		}
		if _, err := store.Stat(ctx, id); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want MATERIAL_NOT_FOUND", id, err)
		}
		if err := store.Delete(ctx, id); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("Delete(%q) = %v, want MATERIAL_NOT_FOUND", id, err)
		}
	}
}

func TestDeleteRemovesFileAndChunks(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx := context.Background()
	blob, err := store.Put(ctx, bytes.NewReader(pdfOfSize(600<<10)), blobs.Meta{Owner: "u1", Name: "a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, blob.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := store.Stat(ctx, blob.ID); !errors.Is(err, blobs.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v", err)
	}
	assertNothingLeft(t, db)
}

// Stored bytes that no longer match their hash are not served as whole.
func TestOpenDetectsDamagedContent(t *testing.T) {
	db := testenv.DB(t)
	store := blobs.NewStore(db, blobs.Options{})
	ctx := context.Background()
	blob, err := store.Put(ctx, bytes.NewReader(pdfFile()), blobs.Meta{Owner: "u1", Name: "a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	damaged := pdfFile()
	damaged[10] ^= 0xFF
	oid, _ := bson.ObjectIDFromHex(blob.ID)
	if _, err := db.Collection("materials.chunks").UpdateOne(ctx, bson.D{{Key: "files_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: bson.Binary{Data: damaged}}}}}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := store.Open(ctx, blob.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil {
		t.Fatal("damaged content read back without an error")
	}
}

func TestPutRequiresOwner(t *testing.T) {
	store := blobs.NewStore(testenv.DB(t), blobs.Options{})
	if _, err := store.Put(context.Background(), bytes.NewReader(pdfFile()), blobs.Meta{Name: "a.pdf"}); apperr.KindOf(err) != apperr.KindInternal {
		t.Fatalf("Put without owner = %v", err)
	}
}

func BenchmarkPut1MB(b *testing.B) {
	store := blobs.NewStore(testenv.DB(b), blobs.Options{})
	data := pdfOfSize(1 << 20)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		blob, err := store.Put(ctx, bytes.NewReader(data), blobs.Meta{Owner: "bench", Name: "a.pdf"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := store.Delete(ctx, blob.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
