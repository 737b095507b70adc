/* Turns the video editor's decoded frames (VideoFrame, transferred from the page) into ImageBitmaps at the displayed
 * size, off the page's main thread: the conversion and scaling of a 1080p frame take 30–100 ms in software, which
 * would otherwise delay every frame step (video-player.js). */
self.onmessage = async (event) => {
  const { frame, f, width, height } = event.data;
  try {
    const bitmap = await createImageBitmap(frame, { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" });
    self.postMessage({ f, width, height, bitmap }, [bitmap]);
  } catch (err) {
    self.postMessage({ f, width, height, error: String(err) });
  } finally {
    frame.close();
  }
};
