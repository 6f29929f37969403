//! Files and assets over HTTP (issue #10): multipart uploads (fields before files, several files),
//! JSON creates, imports from a URL, replacing uploads, deletes that remove the stored bytes,
//! `/assets` with transformations, downloads, ranges and permissions, the `files.*` events, and
//! hooks driving `FilesService`/`AssetsService`.

mod common;

use common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn decoded(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("an image");
    (image.width(), image.height())
}

/// Serves `/pics/sunny-day.png` on 127.0.0.1 for imports.
async fn picture_server(bytes: Vec<u8>) -> String {
    let app = axum::Router::new().route("/pics/sunny-day.png", axum::routing::get(move || async move { ([("content-type", "image/png")], bytes) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/pics/sunny-day.png")
}

fn stored(uploads: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(uploads).map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect()).unwrap_or_default();
    names.sort();
    names
}

struct Api<'a> {
    server: &'a Server,
    token: String,
}

impl Api<'_> {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        json(req.bearer_auth(&self.token).send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.server.client.get(self.server.url(path))).await
    }

    async fn bytes(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.server.client.get(self.server.url(path)).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn events(&self) -> Vec<Value> {
        // After-events are dispatched in order, before this create reaches the only isolate.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, body) = self.send(self.server.client.post(self.server.url("/items/probe_files")).json(&json!({ "action": "events" }))).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(body["data"]["note"].as_str().unwrap()).unwrap()
    }

    async fn probe(&self, body: Value) -> String {
        let (status, body) = self.send(self.server.client.post(self.server.url("/items/probe_files")).json(&body)).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["note"].as_str().unwrap_or_default().to_string()
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

async fn files_and_assets(engine: Engine) {
    let db = TestDb::new(engine).await;
    let ext = fixture("hooks/files");
    let extra = [("HOOKS_POOL_SIZE", "1")];
    Server::start(&db, Some(&ext), &extra).await.stop();
    let pk = db.serial_pk();
    db.execute(&format!("CREATE TABLE probe_files (id {pk}, action varchar(20), file varchar(64), url varchar(255), note text);")).await;
    let server = Server::start(&db, Some(&ext), &extra).await;
    let api = Api { server: &server, token: server.admin_token().await };
    let uploads: PathBuf = db.dir.join("uploads");
    let (_, me) = api.get("/users/me").await;
    let admin_id = me["data"]["id"].clone();

    // Two files in one request; the title field applies to the file after it only.
    let picture = png(40, 20);
    let form = Form::new()
        .text("title", "Custom Title")
        .part("file", Part::bytes(picture.clone()).file_name("red-dot.png").mime_str("image/png").unwrap())
        .part("file", Part::bytes(b"hello world".to_vec()).file_name("my_notes-file.txt").mime_str("text/plain").unwrap());
    let (status, body) = api.send(server.client.post(server.url("/files")).multipart(form)).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    // readMany answers in key order, not upload order.
    let by_name = |name: &str| body["data"].as_array().unwrap().iter().find(|f| f["filename_download"] == name).cloned().unwrap();
    let (image, text) = (&by_name("red-dot.png"), &by_name("my_notes-file.txt"));
    let image_id = image["id"].as_str().unwrap().to_string();
    let text_id = text["id"].as_str().unwrap().to_string();
    assert_eq!(image["title"], "Custom Title");
    assert_eq!(text["title"], "My Notes File");
    assert_eq!(image["type"], "image/png");
    assert_eq!(image["filename_download"], "red-dot.png");
    assert_eq!(image["filename_disk"], format!("{image_id}.png"));
    assert_eq!(image["storage"], "local");
    assert_eq!((image["width"].as_i64(), image["height"].as_i64()), (Some(40), Some(20)), "{engine:?} {image}");
    assert_eq!(image["filesize"].as_i64(), Some(picture.len() as i64), "{engine:?} {image}");
    assert_eq!(image["uploaded_by"], admin_id);
    assert_eq!(text["filesize"].as_i64(), Some(11));
    assert!(text["width"].is_null());
    assert_eq!(std::fs::read(uploads.join(format!("{text_id}.txt"))).unwrap(), b"hello world");
    assert_eq!(std::fs::read(uploads.join(format!("{image_id}.png"))).unwrap(), picture);
    let events = api.events().await;
    assert_eq!(names(&events), ["files.upload", "files.upload"], "{engine:?}: no files.create for multipart");
    assert_eq!(events[0]["item"], image_id.as_str(), "{engine:?}: uploads run in body order");

    // The files.upload hook wrote through FilesService.updateOne.
    let mut description = Value::Null;
    for _ in 0..50 {
        description = api.get(&format!("/files/{image_id}")).await.1["data"]["description"].clone();
        if !description.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(description, format!("hook saw {image_id}.png ({} bytes)", picture.len()), "{engine:?}");

    // Assets: the bytes, transformations, downloads, ranges.
    let res = api.bytes(&format!("/assets/{image_id}"), &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert!(res.headers()["cache-control"].to_str().unwrap().starts_with("private, max-age="));
    assert_eq!(res.bytes().await.unwrap().to_vec(), picture);
    for (query, dimensions, mime) in [
        ("width=10&height=10&fit=cover", (10, 10), "image/png"),
        ("width=10&height=10&fit=contain", (10, 10), "image/png"),
        ("width=10&height=10&fit=inside", (10, 5), "image/png"),
        ("width=10&height=10&fit=outside", (20, 10), "image/png"),
        ("width=20&format=webp", (20, 10), "image/webp"),
        ("height=5&format=jpg&quality=50", (10, 5), "image/jpeg"),
        ("key=system-small-cover", (64, 64), "image/png"),
    ] {
        let res = api.bytes(&format!("/assets/{image_id}?{query}"), &[]).await;
        assert_eq!(res.status(), 200, "{query}");
        assert_eq!(res.headers()["content-type"], mime, "{query}");
        assert_eq!(decoded(&res.bytes().await.unwrap()), dimensions, "{engine:?} {query}");
    }
    for query in ["fit=sideways", "key=system-small-cover&width=3"] {
        let res = api.bytes(&format!("/assets/{image_id}?{query}"), &[]).await;
        assert_eq!(res.status(), 400, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_QUERY", "{query}: {body}");
    }
    let res = api.bytes(&format!("/assets/{image_id}?download"), &[]).await;
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"red-dot.png\"");
    let res = api.bytes(&format!("/assets/{text_id}"), &[("range", "bytes=6-")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 6-10/11");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"world");
    assert_eq!(api.bytes(&format!("/assets/{text_id}"), &[("range", "bytes=50-60")]).await.status(), 416);

    // Public access needs a read permission on directus_files, as in Directus.
    let public = server.client.get(server.url(&format!("/assets/{text_id}"))).send().await.unwrap();
    assert_eq!(public.status(), 403);
    let (status, _) = api.send(server.client.post(server.url("/permissions")).json(&json!({ "role": null, "collection": "directus_files", "action": "read", "fields": ["*"] }))).await;
    assert_eq!(status, 200);
    let public = server.client.get(server.url(&format!("/assets/{text_id}"))).send().await.unwrap();
    assert_eq!(public.status(), 200);
    assert!(public.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    assert_eq!(public.bytes().await.unwrap().as_ref(), b"hello world");

    // A malformed body stores nothing: neither a row nor bytes.
    let before = (db.count("directus_files", "1 = 1").await, stored(&uploads));
    let truncated = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nthe body ends befo";
    let req = server.client.post(server.url("/files")).header("content-type", "multipart/form-data; boundary=XyZ").body(truncated);
    let (status, body) = api.send(req).await;
    assert_eq!(status, 400, "{engine:?} {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_PAYLOAD");
    let only_fields = Form::new().text("title", "no file");
    let (status, body) = api.send(server.client.post(server.url("/files")).multipart(only_fields)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");
    assert_eq!((db.count("directus_files", "1 = 1").await, stored(&uploads)), before, "{engine:?}");

    // JSON create: the normal create events.
    let (status, body) = api.send(server.client.post(server.url("/files")).json(&json!({ "storage": "local", "filename_download": "later.txt", "title": "JSON" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["title"], "JSON");
    assert_eq!(names(&api.events().await), ["files.create.before", "files.create"], "{engine:?}");

    // Multipart PATCH replaces the bytes, then updates with the empty JSON body.
    let form = Form::new().part("file", Part::bytes(b"replaced!".to_vec()).file_name("my_notes-file.txt").mime_str("text/plain").unwrap());
    let (status, body) = api.send(server.client.patch(server.url(&format!("/files/{text_id}"))).multipart(form)).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    assert_eq!(body["data"]["filesize"].as_i64(), Some(9));
    assert_eq!(std::fs::read(uploads.join(format!("{text_id}.txt"))).unwrap(), b"replaced!");
    let events = api.events().await;
    assert_eq!(names(&events), ["files.upload", "files.update.before", "files.update"], "{engine:?}");
    assert_eq!(events[1]["input"], json!({}));
    let (status, body) = api.send(server.client.patch(server.url(&format!("/files/{text_id}"))).json(&json!({ "title": "Renamed" }))).await;
    assert_eq!((status, body["data"]["title"].clone()), (200, json!("Renamed")));
    api.events().await;

    // Import from a URL.
    let remote = picture_server(png(12, 6)).await;
    let (status, body) = api.send(server.client.post(server.url("/files/import")).json(&json!({ "url": remote }))).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let imported = &body["data"];
    assert_eq!(imported["filename_download"], "sunny-day.png");
    assert_eq!(imported["title"], "Sunny Day.png");
    assert_eq!((imported["width"].as_i64(), imported["height"].as_i64()), (Some(12), Some(6)));
    assert!(uploads.join(imported["filename_disk"].as_str().unwrap()).exists());
    assert_eq!(names(&api.events().await), ["files.upload"]);
    let (status, body) = api.send(server.client.post(server.url("/files/import")).json(&json!({ "url": "http://127.0.0.1:9/nothing.png" }))).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (503, json!("SERVICE_UNAVAILABLE")));

    // Hooks: AssetsService.getAsset, FilesService.importOne and deleteOne.
    assert_eq!(api.probe(json!({ "action": "asset", "file": image_id })).await, "red-dot.png image/png true true", "{engine:?}");
    let hook_import = api.probe(json!({ "action": "import", "url": remote })).await;
    let (_, body) = api.get(&format!("/files/{hook_import}")).await;
    assert_eq!(body["data"]["title"], "Imported by a hook", "{engine:?} {body}");
    let hook_disk = uploads.join(body["data"]["filename_disk"].as_str().unwrap());
    assert!(hook_disk.exists());
    assert_eq!(api.probe(json!({ "action": "delete", "file": hook_import })).await, "deleted");
    assert!(!hook_disk.exists(), "{engine:?}: the hook's deleteOne removed the stored file");
    assert_eq!(db.count("directus_files", &format!("id = '{hook_import}'")).await, 0);
    api.events().await;

    // DELETE removes the row, the bytes and every transformed variant.
    assert!(stored(&uploads).iter().filter(|n| n.starts_with(&image_id)).count() > 1, "transformed variants are cached");
    let (status, _) = api.send(server.client.delete(server.url(&format!("/files/{image_id}")))).await;
    assert_eq!(status, 200);
    assert!(stored(&uploads).iter().all(|n| !n.starts_with(&image_id)), "{engine:?}: {:?}", stored(&uploads));
    assert_eq!(db.count("directus_files", &format!("id = '{image_id}'")).await, 0);
    assert_eq!(names(&api.events().await), ["files.delete.before", "files.delete"]);
    assert_eq!(api.bytes(&format!("/assets/{image_id}"), &[]).await.status(), 403);

    // Folders are plain items.
    let (status, body) = api.send(server.client.post(server.url("/folders")).json(&json!({ "name": "Photos" }))).await;
    assert_eq!(status, 200, "{body}");
    let folder = body["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = api.send(server.client.patch(server.url(&format!("/files/{text_id}"))).json(&json!({ "folder": folder }))).await;
    assert_eq!(status, 200);
    let (_, body) = api.get(&format!("/files?filter[folder][_eq]={folder}")).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (status, _) = api.send(server.client.delete(server.url(&format!("/folders/{folder}")))).await;
    assert_eq!(status, 200);
    assert!(server.stop().success());
}

on_every_engine!(files_and_assets);

/// Uploads are streamed: a body far above MAX_PAYLOAD_SIZE is stored whole.
#[tokio::test]
async fn large_uploads_stream_past_the_payload_limit() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, None, &[("MAX_PAYLOAD_SIZE", "1kb")]).await;
    let token = server.admin_token().await;
    let chunk = vec![b'x'; 1024 * 1024];
    let chunks = futures_util::stream::iter((0..20).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("big.bin").mime_str("application/octet-stream").unwrap();
    let res = server.client.post(server.url("/files")).bearer_auth(&token).multipart(Form::new().part("file", part)).send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["filesize"].as_i64(), Some(20 * 1024 * 1024));
    let path = db.dir.join("uploads").join(body["data"]["filename_disk"].as_str().unwrap());
    assert_eq!(std::fs::metadata(path).unwrap().len(), 20 * 1024 * 1024);
    // JSON bodies on the same route keep the limit.
    let big = json!({ "storage": "local", "filename_download": "x", "description": "y".repeat(4096) });
    let res = server.client.post(server.url("/files")).bearer_auth(&token).json(&big).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_PAYLOAD", "{body}");
    assert!(server.stop().success());
}
