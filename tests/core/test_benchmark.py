"""core.benchmark on the sandbox: linking a folder into an existing dataset."""
def test_link_folder_links_only_the_items_a_dataset_lacks(demo):
    """Issue 12: files registered into a folder later are not added to its datasets by themselves;
    link_folder adds those, and only those (joined by storage item, DataRow.item_id)."""
    from annotrain_tui.core.benchmark import link_folder

    sb, ids = demo
    folder = next(f for f in sb.list_folders() if f.path == "/Training Data/Street Scenes")
    dataset = next(d for d in sb.list_datasets() if d.title == "Annotator Training Set")
    integ = sb.list_integrations()[0]
    job = sb.start_registration(folder.id, integ.id, {"images": [{"objectUrl": "https://cams.example.com/late.jpg"}]})
    sb.get_registration_result(folder.id, job, timeout_seconds=30)
    before = len(sb.list_data_rows(dataset.id))
    first = link_folder(sb, folder.id, dataset.id)
    assert first.linked_now == 1 and first.check.ok and len(sb.list_data_rows(dataset.id)) == before + 1
    assert link_folder(sb, folder.id, dataset.id).linked_now == 0
