package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// BucketName is the GridFS bucket holding materials ("materials.files" and
// "materials.chunks").
const BucketName = "materials"

// DefaultMaxSize is the upload limit when Options.MaxSize is zero.
const DefaultMaxSize int64 = 10 << 20

// chunkSize is the GridFS default (255 KiB): the most Put holds in memory.
const chunkSize = 255 * 1024

// cleanupTimeout bounds the removal of a partial upload, which runs even when
// the request's context is already cancelled.
const cleanupTimeout = 30 * time.Second

// Errors from the store.
var (
	ErrTooLarge   = apperr.New(apperr.KindTooLarge, "MATERIAL_TOO_LARGE", "单个文件不能超过10MB")
	ErrNotFound   = apperr.New(apperr.KindNotFound, "MATERIAL_NOT_FOUND", "材料不存在")
	ErrIncomplete = apperr.New(apperr.KindInvalid, "MATERIAL_UPLOAD_INCOMPLETE", "文件上传未完成，请重新上传")
)

// Options configures a Store.
type Options struct {
	// MaxSize is the largest accepted file in bytes; 0 means DefaultMaxSize.
	MaxSize int64
}

// Meta describes an upload; it is stored with the file.
type Meta struct {
	Owner   string // who uploaded it (required); callers check it before serving the file
	Name    string // the client's file name, stored as SafeName(Name)
	Purpose string // what the material is for, e.g. "营业执照"
}

// Blob is a stored material.
type Blob struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"` // hex; equal hashes mean equal files
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	Purpose   string    `json:"purpose,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Store keeps materials in a GridFS bucket. It is safe for concurrent use.
//
// Put writes chunks itself, in the GridFS layout, instead of using the
// driver's GridFSUploadStream: that stream allocates a fixed 16 MiB buffer per
// upload and takes the metadata when it is opened, before the hash is known.
// Reads and deletes go through the driver's bucket.
type Store struct {
	bucket  *mongo.GridFSBucket
	files   *mongox.Collection
	chunks  *mongox.Collection
	maxSize int64

	indexMu    sync.Mutex
	indexReady bool
}

// NewStore returns a store on db's "materials" bucket.
func NewStore(db *mongo.Database, opts Options) *Store {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	b := db.GridFSBucket(options.GridFSBucket().SetName(BucketName).SetChunkSizeBytes(chunkSize))
	return &Store{
		bucket:  b,
		files:   mongox.C(db, BucketName+".files"),
		chunks:  mongox.C(db, BucketName+".chunks"),
		maxSize: opts.MaxSize,
	}
}

// MaxSize reports the upload limit in bytes.
func (s *Store) MaxSize() int64 { return s.maxSize }

// fileDoc is a GridFS files document with our metadata.
type fileDoc struct {
	ID         bson.ObjectID `bson:"_id"`
	Length     int64         `bson:"length"`
	ChunkSize  int32         `bson:"chunkSize"`
	UploadDate time.Time     `bson:"uploadDate"`
	Filename   string        `bson:"filename"`
	Metadata   metaDoc       `bson:"metadata"`
}

type metaDoc struct {
	Kind      string    `bson:"kind"`
	SHA256    string    `bson:"sha256"`
	Owner     string    `bson:"owner"`
	Name      string    `bson:"name"`
	Purpose   string    `bson:"purpose,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (d *fileDoc) blob() Blob {
	return Blob{
		ID:        d.ID.Hex(),
		Kind:      Kind(d.Metadata.Kind),
		Size:      d.Length,
		SHA256:    d.Metadata.SHA256,
		Name:      d.Metadata.Name,
		Owner:     d.Metadata.Owner,
		Purpose:   d.Metadata.Purpose,
		CreatedAt: d.Metadata.CreatedAt,
	}
}

// Put streams r into the store. It decides the kind from the content, refuses
// anything but PDF, JPEG and PNG (ErrUnsupportedType), files over MaxSize
// (ErrTooLarge, found while reading: at most MaxSize+1 bytes are read) and
// files that end abruptly (ErrCorruptFile). On every failure, including a
// cancelled ctx, whatever was written is removed. At most one GridFS chunk
// (255 KiB) is held in memory.
func (s *Store) Put(ctx context.Context, r io.Reader, meta Meta) (Blob, error) {
	if meta.Owner == "" {
		return Blob{}, apperr.Internal.WithCause(errors.New("blobs: Put without an owner"))
	}
	if err := ctx.Err(); err != nil {
		return Blob{}, ErrIncomplete.WithCause(err)
	}
	// Refuse the wrong type before touching the database.
	lr := &io.LimitedReader{R: r, N: s.maxSize + 1}
	head := make([]byte, chunkSize)
	n, err := io.ReadFull(lr, head[:HeadSize])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Blob{}, s.readError(ctx, err)
	}
	kind, err := SniffHead(head[:n])
	if err != nil {
		return Blob{}, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		return Blob{}, dbError(ctx, err)
	}

	id := bson.NewObjectID()
	blob, err := s.write(ctx, id, kind, lr, head, n, meta)
	if err != nil {
		if cerr := s.removePartial(ctx, id); cerr != nil {
			e := apperr.From(err)
			return Blob{}, e.WithCause(errors.Join(e.Unwrap(), cerr))
		}
		return Blob{}, err
	}
	return blob, nil
}

// write streams the rest of the upload into chunks of id, then writes the
// files document, which makes the file visible. buf holds the first n bytes.
func (s *Store) write(ctx context.Context, id bson.ObjectID, kind Kind, lr *io.LimitedReader, buf []byte, n int, meta Meta) (Blob, error) {
	var (
		sum   = sha256.New()
		tail  tailBuffer
		size  int64
		index int32
		eof   = n < HeadSize
	)
	for {
		// Fill the chunk buffer; a short read means the upload ended.
		for !eof && n < len(buf) {
			m, err := lr.Read(buf[n:])
			n += m
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return Blob{}, s.readError(ctx, err)
			}
		}
		if size+int64(n) > s.maxSize {
			return Blob{}, s.tooLarge()
		}
		if err := ctx.Err(); err != nil {
			return Blob{}, ErrIncomplete.WithCause(err)
		}
		if n > 0 {
			if err := s.insertChunk(ctx, id, index, buf[:n], sum, &tail); err != nil {
				return Blob{}, err
			}
			index++
			size += int64(n)
			n = 0
		}
		if eof {
			break
		}
	}
	if err := checkTail(kind, tail.bytes(), size); err != nil {
		return Blob{}, err
	}

	now := time.Now().UTC().Truncate(time.Millisecond) // BSON dates keep milliseconds
	doc := fileDoc{
		ID:         id,
		Length:     size,
		ChunkSize:  chunkSize,
		UploadDate: now,
		Filename:   SafeName(meta.Name),
		Metadata: metaDoc{
			Kind:      string(kind),
			SHA256:    hex.EncodeToString(sum.Sum(nil)),
			Owner:     meta.Owner,
			Name:      SafeName(meta.Name),
			Purpose:   meta.Purpose,
			CreatedAt: now,
		},
	}
	if _, err := s.files.InsertOne(ctx, doc); err != nil {
		return Blob{}, dbError(ctx, err)
	}
	return doc.blob(), nil
}

func (s *Store) insertChunk(ctx context.Context, id bson.ObjectID, index int32, data []byte, sum hash.Hash, tail *tailBuffer) error {
	sum.Write(data)
	tail.write(data)
	_, err := s.chunks.InsertOne(ctx, bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "files_id", Value: id},
		{Key: "n", Value: index},
		{Key: "data", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: data}},
	})
	if err != nil {
		return dbError(ctx, err)
	}
	return nil
}

// removePartial deletes the chunks and files document of a failed upload. It
// runs on a context that outlives a cancelled request.
func (s *Store) removePartial(ctx context.Context, id bson.ObjectID) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	// The files document first, so no reader ever sees a file losing chunks.
	_, ferr := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	_, cerr := s.chunks.DeleteMany(ctx, bson.D{{Key: "files_id", Value: id}})
	if err := errors.Join(ferr, cerr); err != nil {
		return fmt.Errorf("blobs: remove partial upload %s: %w", id.Hex(), err)
	}
	return nil
}

func (s *Store) tooLarge() *apperr.Error {
	if s.maxSize == DefaultMaxSize {
		return ErrTooLarge.WithDetail("max_bytes", s.maxSize)
	}
	return ErrTooLarge.WithMessage("单个文件不能超过"+humanSize(s.maxSize)).WithDetail("max_bytes", s.maxSize)
}

// readError classifies a failure to read the upload body.
func (s *Store) readError(ctx context.Context, err error) error {
	var mbe *http.MaxBytesError
	var ae *apperr.Error
	switch {
	case errors.As(err, &mbe):
		// The HTTP layer's own body limit tripped first.
		return s.tooLarge().WithCause(err)
	case errors.As(err, &ae):
		return ae
	case ctx.Err() != nil:
		return ErrIncomplete.WithCause(ctx.Err())
	}
	return ErrIncomplete.WithCause(err)
}

// dbError classifies a database failure during a request.
func dbError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ErrIncomplete.WithCause(errors.Join(ctx.Err(), err))
	}
	return apperr.Unavailable.WithCause(err)
}

// ensureIndexes creates the indexes the GridFS spec asks for, once per Store;
// a failure is retried on the next Put.
func (s *Store) ensureIndexes(ctx context.Context) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if s.indexReady {
		return nil
	}
	err := s.chunks.EnsureIndexes(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "files_id", Value: int32(1)}, {Key: "n", Value: int32(1)}},
		Options: options.Index().SetUnique(true),
	})
	if err == nil {
		err = s.files.EnsureIndexes(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: "filename", Value: int32(1)}, {Key: "uploadDate", Value: int32(1)}},
		})
	}
	if err != nil {
		return fmt.Errorf("blobs: create indexes: %w", err)
	}
	s.indexReady = true
	return nil
}

// Stat returns the metadata of the material id (ErrNotFound if there is none).
// It does not check the owner: callers do, and answer ErrNotFound to others.
func (s *Store) Stat(ctx context.Context, id string) (Blob, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Blob{}, ErrNotFound
	}
	var doc fileDoc
	if err := s.files.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&doc); err != nil {
		if mongox.IsNoDocuments(err) {
			return Blob{}, ErrNotFound
		}
		return Blob{}, dbError(ctx, err)
	}
	return doc.blob(), nil
}

// Open returns the content of the material id and its metadata. ctx must
// stay alive while the content is read. Reading fails at the end if the bytes
// do not match the recorded size and SHA-256, so damaged storage is never
// served as if it were whole.
func (s *Store) Open(ctx context.Context, id string) (io.ReadCloser, Blob, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil, Blob{}, ErrNotFound
	}
	ds, err := s.bucket.OpenDownloadStream(ctx, oid)
	if err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return nil, Blob{}, ErrNotFound
		}
		return nil, Blob{}, dbError(ctx, err)
	}
	f := ds.GetFile()
	var meta metaDoc
	if err := bson.Unmarshal(f.Metadata, &meta); err != nil {
		_ = ds.Close()
		return nil, Blob{}, apperr.Internal.WithCause(fmt.Errorf("blobs: metadata of %s: %w", id, err))
	}
	doc := fileDoc{ID: oid, Length: f.Length, Metadata: meta}
	blob := doc.blob()
	return &verifyingReader{rc: ds, want: blob, sum: sha256.New()}, blob, nil
}

// Delete removes the material id (ErrNotFound if there is none).
func (s *Store) Delete(ctx context.Context, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrNotFound
	}
	if err := s.bucket.Delete(ctx, oid); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return ErrNotFound
		}
		return dbError(ctx, err)
	}
	return nil
}

// verifyingReader checks size and hash when the content has been read whole.
type verifyingReader struct {
	rc   io.ReadCloser
	want Blob
	sum  hash.Hash
	n    int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.sum.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		got := hex.EncodeToString(v.sum.Sum(nil))
		if v.n != v.want.Size || got != v.want.SHA256 {
			return n, apperr.Internal.WithCause(fmt.Errorf("blobs: %s read back %d bytes sha256 %s, stored %d bytes sha256 %s",
				v.want.ID, v.n, got, v.want.Size, v.want.SHA256))
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct{ buf []byte }

func (t *tailBuffer) write(p []byte) {
	if len(p) >= tailSize {
		t.buf = append(t.buf[:0], p[len(p)-tailSize:]...)
		return
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
}

func (t *tailBuffer) bytes() []byte { return t.buf }

func humanSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%d字节", n)
}
